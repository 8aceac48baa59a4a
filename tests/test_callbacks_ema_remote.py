"""SwapEMAWeights (evaluation with the optimizer's moving averages, as Keras) and RemoteMonitor
(each epoch's logs posted to a loopback HTTP server, in Keras's two formats)."""
import http.server
import json
import threading
import urllib.parse

import numpy as np
import pytest

import mlcore as mk
from mlcore.callbacks import RemoteMonitor, SwapEMAWeights

DATA = np.random.default_rng(3).normal(size=(16, 3)).astype("float32")
TARGETS = DATA @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")


def _trained(lib, callbacks, epochs=2, use_ema=True):
    """A Dense model fit with SGD(use_ema=True) from fixed weights, and the numbers its evaluate gave."""
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(1)])
    model.set_weights([np.full((3, 1), 0.1, "float32"), np.zeros(1, "float32")])
    model.compile(optimizer=lib.optimizers.SGD(0.05, use_ema=use_ema, ema_momentum=0.5), loss="mse")
    history = model.fit(DATA, TARGETS, batch_size=4, epochs=epochs, shuffle=False, verbose=0,
                        validation_data=(DATA, TARGETS), callbacks=callbacks)
    return model, history.history


@pytest.mark.parametrize("swap_on_epoch", [False, True])
def test_swap_ema_weights_matches_keras(keras, swap_on_epoch):
    runs = [_trained(lib, [lib.callbacks.SwapEMAWeights(swap_on_epoch)]) for lib in (keras, mk)]
    (keras_model, keras_history), (model, history) = runs
    np.testing.assert_allclose(history["val_loss"], keras_history["val_loss"], rtol=1e-5)
    np.testing.assert_allclose(history["loss"], keras_history["loss"], rtol=1e-5)
    for got, expected in zip(model.get_weights(), keras_model.get_weights()):   # fit ends on the averages
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_fit_with_use_ema_ends_on_the_moving_averages(keras):
    """Without the callback too, as Keras's fit finalizes the optimizer's variables."""
    (keras_model, _), (model, _) = [_trained(lib, []) for lib in (keras, mk)]
    for got, expected in zip(model.get_weights(), keras_model.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.get_weights()[0], model.optimizer._model_variables_moving_average[0].get_value())


def test_swap_ema_weights_evaluates_with_the_averages_and_swaps_back():
    model, history = _trained(mk, [SwapEMAWeights()], epochs=1)
    model.set_weights([w + 1 for w in model.get_weights()])    # fit ended on the averages: move off them
    averages = [v.get_value() for v in model.optimizer._model_variables_moving_average]
    weights = model.get_weights()
    assert not np.allclose(averages[0], weights[0])
    swap = SwapEMAWeights()
    swap.set_model(model)
    swap.on_test_begin()
    np.testing.assert_array_equal(model.get_weights()[0], averages[0])
    swap.on_test_end()
    np.testing.assert_array_equal(model.get_weights()[0], weights[0])


def test_swap_ema_weights_needs_an_optimizer_with_use_ema():
    with pytest.raises(ValueError, match="use_ema=True"):
        _trained(mk, [SwapEMAWeights()], use_ema=False)


class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.posts.append((self.path, self.headers["Content-Type"], self.headers.get("X-Run"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.posts = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(params=["requests", "urllib"])
def transport(request, monkeypatch):
    """RemoteMonitor posts with requests where it is installed, as Keras, else with urllib: both, here."""
    from mlcore.callbacks import remote_monitor
    if request.param == "urllib":
        monkeypatch.setattr(remote_monitor, "requests", None)
    return request.param


def test_remote_monitor_makes_kerass_requests_post_calls(keras):
    """Code written for Keras's RemoteMonitor mocks requests.post: the same calls are made."""
    from unittest import mock
    calls = []
    for lib in (keras, mk):
        with mock.patch("requests.post") as post:
            for as_json in (False, True):
                lib.callbacks.RemoteMonitor(root="http://example.invalid", headers={"X-Run": "7"},
                                            send_as_json=as_json).on_epoch_end(2, {"loss": np.float32(0.5)})
        calls.append(post.call_args_list)
    assert calls[0] == calls[1] and len(calls[1]) == 2


def test_remote_monitor_posts_each_epoch_as_a_form_field(server, transport):
    root = "http://127.0.0.1:%d" % server.server_port
    _trained(mk, [RemoteMonitor(root=root, field="logs", headers={"X-Run": "7"})], use_ema=False)
    assert len(server.posts) == 2
    path, content_type, run, body = server.posts[1]
    assert (path, content_type, run) == ("/publish/epoch/end/", "application/x-www-form-urlencoded", "7")
    sent = json.loads(urllib.parse.parse_qs(body)["logs"][0])
    assert sent["epoch"] == 1 and set(sent) == {"epoch", "loss", "val_loss"} and sent["loss"] > 0


def test_remote_monitor_posts_json_and_numpy_values_as_numbers(server, transport):
    monitor = RemoteMonitor(root="http://127.0.0.1:%d" % server.server_port, path="/logs", send_as_json=True)
    monitor.on_epoch_end(3, {"loss": np.float32(0.25), "acc": np.array(0.5)})
    path, content_type, _, body = server.posts[0]
    assert (path, content_type) == ("/logs", "application/json")
    assert json.loads(body) == {"epoch": 3, "loss": 0.25, "acc": 0.5}


def test_remote_monitor_warns_when_the_server_is_unreachable(server, transport):
    port = server.server_port
    server.shutdown()
    server.server_close()
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        RemoteMonitor(root="http://127.0.0.1:%d" % port).on_epoch_end(0, {"loss": 1.0})
