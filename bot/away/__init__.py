"""Away mode: a manager's last away day and the delegate who decides for them meanwhile."""
