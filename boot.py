"""Board boot script. Wi-Fi, the setup access point and safe mode arrive with the board issue.

It must never hang or fail the boot; on the unix port it does nothing.
"""
