"""RemoteMonitor: post each epoch's logs to a server over HTTP, with `requests` as Keras does where it is
installed (so code that mocks requests.post sees the same calls), else with the standard library's urllib."""
import json
import urllib.parse
import urllib.request
import warnings

import numpy as np

from mlcore.callbacks.callback import Callback

try:
    import requests
except ImportError:         # mlcore does not need it: urllib posts the same request
    requests = None


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
        post = self._post_with_requests if requests is not None else self._post_with_urllib
        try:
            post(send)
        except OSError:         # requests' RequestException is one too, and so is urllib's URLError
            warnings.warn("Could not reach RemoteMonitor root server at %s" % self.root, stacklevel=2)

    def _post_with_requests(self, send):
        if self.send_as_json:
            requests.post(self.root + self.path, json=send, headers=self.headers)
        else:
            requests.post(self.root + self.path, {self.field: json.dumps(send)}, headers=self.headers)

    def _post_with_urllib(self, send):
        if self.send_as_json:
            body, content_type = json.dumps(send), "application/json"
        else:
            body, content_type = urllib.parse.urlencode({self.field: json.dumps(send)}), \
                "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.root + self.path, data=body.encode("utf-8"), method="POST",
                                         headers={"Content-Type": content_type, **(self.headers or {})})
        urllib.request.urlopen(request, timeout=10).close()
