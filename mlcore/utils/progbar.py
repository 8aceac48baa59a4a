"""Keras 3's text progress bar.

The output is meant to be byte-for-byte what ``keras.utils.Progbar`` prints
(ANSI colours, the ``━`` bar, ETA and time-per-step formats), so logs and
tests written against Keras read the same with mlcore.
"""
import logging
import math
import os
import sys
import time

import numpy as np

from mlcore import config

_BOLD, _GREEN, _WHITE, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


def print_msg(message, line_break=True):
    """Write to stdout and flush, so progress shows while training runs.

    A console that cannot encode ``━`` gets Keras 2's ``=`` bar instead.  With interactive logging
    off (config.disable_interactive_logging) the message goes to the "mlcore" logger instead.
    """
    if not config.is_interactive_logging_enabled():
        logging.getLogger("mlcore").info(str(message))
        return
    message = f"{message}\n" if line_break else str(message)
    try:
        sys.stdout.write(message)
    except UnicodeEncodeError:
        encoding = sys.stdout.encoding or "utf-8"
        message = message.replace("━", "=")
        sys.stdout.write(message.encode(encoding, "ignore").decode(encoding))
    sys.stdout.flush()


def _format_eta(seconds):
    """`1:02:03`, `2:03` or `42s`, as Keras shows the time left."""
    if seconds > 3600:
        return "%d:%02d:%02d" % (
            seconds // 3600,
            (seconds % 3600) // 60,
            seconds % 60,
        )
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


class Progbar:
    """Displays a progress bar.

    Args:
        target: total number of steps expected, None if unknown.
        width: bar width in characters.
        verbose: 0 (silent), 1 (bar rewritten in place), 2 (one line at the
            end).
        interval: minimum seconds between two redraws of the bar.
        stateful_metrics: names shown as given; every other value is
            averaged over the steps seen so far.
        stateless_metrics: the reverse convention: only these are averaged
            (at most one of the two lists may be given).
        unit_name: what a step is called ("step" or "sample").
    """

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name="step",
    ):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` "
                "can be provided."
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateless_metrics = None
        if stateless_metrics is not None:
            self.stateful_metrics = None
            self.stateless_metrics = set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
        # Keras's test: "posix" is always loaded on Linux and macOS, so there
        # the bar is redrawn with "\b...\r" even when stdout is a pipe.
        self._dynamic_display = (
            (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
            or "ipykernel" in sys.modules
            or "posix" in sys.modules
            or "PYCHARM_HOSTED" in os.environ
        )
        self._seen_so_far = 0
        self._values = {}  # name -> [weighted sum, weight]
        self._values_order = []
        self._start = time.time()
        self._last_update = 0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def update(self, current, values=None, finalize=None):
        """Shows step `current`; `values` is a list of (name, value) pairs.

        `finalize` defaults to `current >= target`; a finalized bar ends its
        line.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values or [], finalize)
        self._seen_so_far = current
        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw_bar(current, now, time_per_unit, finalize)
        elif self.verbose == 2 and finalize and self._has_target():
            self._draw_summary(current, now, time_per_unit)
        self._last_update = now

    def add(self, n, values=None):
        """Advances the bar by `n` steps."""
        self.update(self._seen_so_far + n, values)

    def _has_target(self):
        return self.target is not None and self.target > 0

    def _is_stateless(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record(self, current, values, finalize):
        """Accumulates step-weighted sums; finalizing values replace them."""
        for name, value in values:
            if name not in self._values_order:
                self._values_order.append(name)
            if not self._is_stateless(name) or finalize:
                self._values[name] = [value, 1]
                continue
            steps = max(current - self._seen_so_far, 1)
            if name in self._values:
                self._values[name][0] += value * steps
                self._values[name][1] += steps
            else:
                self._values[name] = [value * steps, steps]

    def _format_values(self, signed_threshold=False):
        """` - name: 0.1234` per value; tiny ones in `1.0000e-04` form.

        Keras's verbose=2 line compares the signed value with 1e-3 (so
        negative values print in e-notation) and the bar compares its
        absolute value; both are kept for identical output.
        """
        text = ""
        for name in self._values_order:
            total, count = self._values[name]
            if not isinstance(total, float):
                total = np.mean(total)
            avg = total / max(1, count)
            size = avg if signed_threshold else abs(avg)
            style = ".4f" if size > 1e-3 else ".4e"
            text += f" - {name}: {avg:{style}}"
        return text

    def _draw_bar(self, current, now, time_per_unit, finalize):
        """verbose=1: redraw `3/10 ━━━━━━──── 1s 12ms/step - loss: ...`."""
        if self._dynamic_display:
            message = "\b" * self._prev_total_width + "\r"
        else:
            message = "\n"
        escapes = len(_BOLD + _RESET)  # escape characters take no width
        if self._has_target():
            digits = int(math.log10(self.target)) + 1
            count = (f"%{digits}d/%d") % (current, self.target)
            bar = f"{_BOLD}{count}{_RESET} "
            done = int(self.width * (float(current) / self.target))
            if done > 0:
                bar += f"{_GREEN}{'━' * done}{_RESET}"
                escapes += len(_GREEN + _RESET)
            bar += f"{_WHITE}{'━' * (self.width - done)}{_RESET}"
            escapes += len(_BOLD + _RESET) + len(_WHITE + _RESET)
        else:
            bar = "%7d/Unknown" % current
        if self._has_target() and not finalize:
            eta = time_per_unit * (self.target - current)
            info = f" {_BOLD}{_format_eta(eta)}{_RESET}"
        else:
            info = f" {_BOLD}{now - self._start:.0f}s{_RESET}"
        info += self._format_time(time_per_unit, self.unit_name)
        info += self._format_values()
        message += bar + info
        total_width = len(bar) + len(info) - escapes
        message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        print_msg(message, line_break=False)
        self._prev_total_width = total_width

    def _draw_summary(self, current, now, time_per_unit):
        """verbose=2: `10/10 - 0s - 3ms/step - loss: ...` once, at the end."""
        digits = int(math.log10(self.target)) + 1
        count = f"%{digits}d/%d" % (current, self.target)
        line = f"{count} - {now - self._start:.0f}s -"
        line += self._format_time(time_per_unit, self.unit_name)
        line += self._format_values(signed_threshold=True)
        print_msg(line + "\n", line_break=False)

    def _format_time(self, time_per_unit, unit_name):
        """` 3ms/step`: whole seconds, milliseconds or microseconds."""
        if time_per_unit >= 1 or time_per_unit == 0:
            return f" {time_per_unit:.0f}s/{unit_name}"
        if time_per_unit >= 1e-3:
            return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
        return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"

    def _estimate_step_duration(self, current, now):
        """Seconds per step, leaving out the (slow, compiling) first step."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            time_per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            time_per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return time_per_unit
