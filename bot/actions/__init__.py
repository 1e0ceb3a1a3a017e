"""The monthly review's memory: action items added on a digest, carried to the next one."""
