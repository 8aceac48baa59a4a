"""RemoteMonitor: post each epoch's logs to a server over HTTP (with urllib: no extra dependency)."""
import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from mlcore.callbacks.callback import Callback


class RemoteMonitor(Callback):
    """At each epoch's end, POSTs {"epoch": epoch, **logs} to root + path, as keras.callbacks.RemoteMonitor:
    as a form whose `field` holds the JSON, or, with send_as_json, as a JSON body.

    Args:
        root: the server's URL.
        path: the path the events are posted to.
        field: the form field that holds the JSON (when not send_as_json).
        headers: extra HTTP headers, a dict.
        send_as_json: post the logs as an application/json body.
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data", headers=None,
                 send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for name, value in (logs or {}).items():
            send[name] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        if self.send_as_json:
            body, content_type = json.dumps(send), "application/json"
        else:
            body, content_type = urllib.parse.urlencode({self.field: json.dumps(send)}), \
                "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.root + self.path, data=body.encode("utf-8"), method="POST",
                                         headers={"Content-Type": content_type, **(self.headers or {})})
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except (urllib.error.URLError, OSError):
            warnings.warn("Could not reach RemoteMonitor root server at %s" % self.root, stacklevel=2)
