"""Manager introduction: one welcome per configured manager, and its re-opening from the App Home."""
