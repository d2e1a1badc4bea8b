"""The camera app the board serves: the capture loop and its viewers (stream, senders), the
camera's routes, the device page, the camera as a Web Thing. camdot.app.create_app assembles it."""
