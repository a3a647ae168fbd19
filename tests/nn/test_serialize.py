"""Saving and loading models as JSON: exact round trips, refusals that change nothing,
and saves that never destroy the previous file."""

from __future__ import annotations

import json
import os
import pickle
import time
from pathlib import Path
from typing import Any

import pytest

import nn.serialize
from nn import MLP, ModelFileError, load, load_into, mazur, save
from nn.serialize import FORMAT, MAX_BYTES, MAX_PARAMETERS, VERSION


def awkward_model() -> MLP:
    """A model whose parameters include floats that a careless writer would round."""
    model = MLP(2, [3, 2], activation="tanh", output_activation="sigmoid", seed=4)
    specials = [0.1 + 0.2, 1 / 3, -5e-324, 1e-300, 2.0**0.5, -1e300, 123456789.12345678]
    for p, x in zip(model.parameters(), specials):
        p.data = x
    return model


def state(model: MLP) -> Any:
    return model.get_weights()


def test_round_trip_is_exact(tmp_path: Path) -> None:
    model = awkward_model()
    path = tmp_path / "model.json"
    save(model, path)
    again = load(path)
    assert repr(again) == repr(model)
    assert state(again) == state(model)  # ==, not approx: every float the same
    x = [0.3, -0.7]
    assert [v.data for v in again(x)] == [v.data for v in model(x)]  # type: ignore[union-attr]

    other = MLP(2, [3, 2], activation="tanh", output_activation="sigmoid", seed=99)
    load_into(other, str(path))
    assert state(other) == state(model)


def test_shared_biases_round_trip(tmp_path: Path) -> None:
    model = mazur.network()
    save(model, tmp_path / "mazur.json")
    again = load(tmp_path / "mazur.json")
    assert [layer.shared_bias for layer in again.layers] == [True, True]
    assert [p.label for p in again.parameters()] == [p.label for p in model.parameters()]
    assert round(mazur.forward(again).E_total.data, 9) == 0.298371109


def test_the_file_is_plain_json_with_format_and_architecture(tmp_path: Path) -> None:
    save(MLP(2, [16, 16, 1]), tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert doc["format"] == FORMAT and doc["version"] == VERSION == 1
    assert doc["architecture"] == {
        "nin": 2,
        "nouts": [16, 16, 1],
        "activation": "relu",
        "output_activation": "linear",
        "shared_bias": [False, False, False],
    }


def test_saved_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    umask = os.umask(0o022)
    os.umask(umask)
    save(MLP(2, [1]), tmp_path / "m.json")
    assert (tmp_path / "m.json").stat().st_mode & 0o777 == 0o666 & ~umask


# -- refusals: each leaves the model exactly as it was --------------------------------
def saved_document(tmp_path: Path) -> dict[str, Any]:
    save(MLP(2, [3, 1], seed=0), tmp_path / "good.json")
    return json.loads((tmp_path / "good.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def refused(tmp_path: Path, text: str | bytes, message: str) -> None:
    """``text`` as a file must be refused by load and load_into, with the model untouched."""
    path = tmp_path / "bad.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    model = MLP(2, [3, 1], seed=1)  # different weights from the file's seed 0
    before = state(model)
    with pytest.raises(ModelFileError, match=message) as info:
        load_into(model, path)
    assert state(model) == before
    assert info.value.path == str(path) and repr(str(path)) in str(info.value)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_wrong_architecture_is_refused(tmp_path: Path) -> None:
    for other, what in [
        (MLP(2, [4, 1]), r"holds MLP\(2, \[4, 1\]"),
        (MLP(3, [3, 1]), r"holds MLP\(3, \[3, 1\]"),
        (MLP(2, [3, 1], activation="tanh"), "activation='tanh'"),
        (MLP(2, [3, 1], shared_bias=True), r"shared_bias=\[True, True\]"),
    ]:
        save(other, tmp_path / "other.json")
        model = MLP(2, [3, 1], seed=1)
        before = state(model)
        with pytest.raises(ModelFileError, match=what + r".*but the model is MLP\(2, \[3, 1\]"):
            load_into(model, tmp_path / "other.json")
        assert state(model) == before


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    save(MLP(2, [3, 1]), tmp_path / "good.json")
    text = (tmp_path / "good.json").read_text(encoding="utf-8")
    for cut in (1, len(text) // 3, len(text) // 2, len(text) - 3):
        refused(tmp_path, text[:cut], "not valid JSON .*the file may be truncated")
    refused(tmp_path, "", "not valid JSON")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ('"0.5"', r"weights\[1\]\[0\]\[2\]: expected a finite number, got '0.5'"),
        ("null", r"weights\[1\]\[0\]\[2\]: expected a finite number, got None"),
        ("true", r"weights\[1\]\[0\]\[2\]: expected a finite number, got True"),
        ("NaN", "NaN is not a number a model file may hold"),
        ("Infinity", "Infinity is not a number a model file may hold"),
        ("-Infinity", "-Infinity is not a number a model file may hold"),
        ("1e999", r"weights\[1\]\[0\]\[2\]: expected a finite number, got inf"),
        ("[0.5]", r"weights\[1\]\[0\]\[2\]: expected a finite number, got a list of 1"),
    ],
)
def test_non_numbers_are_refused(tmp_path: Path, bad: str, message: str) -> None:
    # The very last weight is the bad one: had loading set weights as it went,
    # every earlier weight would already have changed.
    doc = saved_document(tmp_path)
    doc["weights"][1][0][2] = "@BAD@"
    text = json.dumps(doc).replace('"@BAD@"', bad)
    refused(tmp_path, text, message)


def test_a_bad_last_bias_is_refused(tmp_path: Path) -> None:
    doc = saved_document(tmp_path)
    doc["biases"][1][0] = "x"
    refused(tmp_path, json.dumps(doc), r"biases\[1\]\[0\]: expected a finite number, got 'x'")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="something-else"), "expected format 'tinygrad-bp.mlp'"),
        (lambda d: d.pop("format"), "expected format 'tinygrad-bp.mlp', got None"),
        (lambda d: d.update(version=2), "expected version 1, got 2 .written by a newer"),
        (lambda d: d.update(version="1"), "expected version 1, got '1'"),
        (lambda d: d.update(version=True), "expected version 1, got True"),
        (lambda d: d.update(version=1.0), "expected version 1, got 1.0"),
        (lambda d: d.pop("biases"), "the document: missing biases"),
        (lambda d: d.update(extra=1), "the document: unexpected 'extra'"),
        (lambda d: d["architecture"].update(nin="2"), "architecture.nin must be a positive"),
        (lambda d: d["architecture"].update(nouts=[3, 0]), "architecture.nouts must be"),
        (lambda d: d["architecture"].update(activation="gelu"), "architecture.activation must"),
        (lambda d: d["architecture"].update(shared_bias=[0, 0]), "shared_bias must be a list"),
        (lambda d: d["architecture"].pop("nin"), "architecture: missing nin"),
        (lambda d: d["weights"].pop(), r"weights: expected 2 layers"),
        (lambda d: d["weights"][0].pop(), r"weights\[0\]: expected 3 neurons"),
    ],
)
def test_wrong_fields_are_refused(tmp_path: Path, change: Any, message: str) -> None:
    doc = saved_document(tmp_path)
    change(doc)
    refused(tmp_path, json.dumps(doc), message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2, 3]", "expected a JSON object, got list"),
        ('{"format": "tinygrad-bp.mlp", "format": "x"}', "the key 'format' appears twice"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("1" * 5000, "not a model file|expected a JSON object"),  # 5000 digits
    ],
)
def test_odd_json_is_refused(tmp_path: Path, text: str, message: str) -> None:
    refused(tmp_path, text, message)


def test_binary_and_pickle_files_are_refused_unexecuted(tmp_path: Path) -> None:
    refused(tmp_path, b"\x80\x04\x95\xff\xfe", "not a text .UTF-8. file")
    # A pickle is never unpickled: it is just bytes that are not JSON.
    refused(tmp_path, pickle.dumps({"format": FORMAT}), "not a text|not valid JSON")


def test_an_absurd_stated_size_is_refused_before_building_anything(tmp_path: Path) -> None:
    doc = saved_document(tmp_path)
    doc["architecture"]["nouts"] = [10**9, 1]
    (tmp_path / "huge.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ModelFileError, match=r"weights\[0\]: expected 1000000000 neurons"):
        load(tmp_path / "huge.json")


def test_an_oversized_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nn.serialize, "MAX_BYTES", 100)
    doc = saved_document(tmp_path)
    assert MAX_BYTES > 100
    refused(tmp_path, json.dumps(doc), "larger than 100 bytes")


def test_a_huge_integer_is_refused_naming_the_parameter(tmp_path: Path) -> None:
    doc = saved_document(tmp_path)
    doc["weights"][1][0][2] = 10**400  # JSON has no limit on an integer's digits
    refused(
        tmp_path, json.dumps(doc), r"weights\[1\]\[0\]\[2\]: .*401 digits, too large for a float"
    )


@pytest.mark.parametrize(
    "big", [10**400, -(2**1024), -(10**5000)], ids=["1e400", "-2**1024", "-1e5000"]
)
def test_from_weights_and_set_weights_refuse_an_int_too_large_for_a_float(big: int) -> None:
    with pytest.raises(ValueError, match=r"weights\[1\]\[1\]\[0\]: .*too large for a float"):
        MLP.from_weights([[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6], [big, 0.8]]], [0.0, 0.0])
    model = mazur.network()
    before = state(model)
    with pytest.raises(ValueError, match=r"biases\[1\]: .*too large for a float"):
        model.set_weights(before[0], [0.35, big])
    assert state(model) == before


def test_a_file_declaring_too_many_parameters_is_refused_quickly(tmp_path: Path) -> None:
    # 2000 inputs into 1000 neurons: two million parameters, every one of them
    # present (4 MB of zeros). Building that network would take many seconds
    # and gigabytes; the file is refused after parsing, in well under a second.
    nin, nouts = 2000, [1000, 1]
    row = "[" + ",".join(["0"] * nin) + "]"
    text = json.dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "architecture": {
                "nin": nin,
                "nouts": nouts,
                "activation": "relu",
                "output_activation": "linear",
                "shared_bias": [True, True],
            },
            "weights": "@W@",
            "biases": [0, 0],
        }
    ).replace('"@W@"', "[[" + ",".join([row] * 1000) + "], [[" + ",".join(["0"] * 1000) + "]]]")
    path = tmp_path / "huge.json"
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises(
        ModelFileError,
        match=r"declares 2,001,002 parameters; a model file may hold at most 150,000",
    ):
        load(path)
    assert time.perf_counter() - start < 5  # minutes before the cap


def test_the_largest_model_file_allowed_loads(tmp_path: Path) -> None:
    model = MLP(2, [380, 380, 1], seed=0)  # 146,301 parameters, just under the cap
    assert len(model.parameters()) <= MAX_PARAMETERS
    save(model, tmp_path / "big.json")
    assert (tmp_path / "big.json").stat().st_size < MAX_BYTES
    assert load(tmp_path / "big.json").get_weights() == model.get_weights()


def test_a_model_over_the_cap_is_not_saved(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="a model file holds at most 150,000"):
        save(MLP(400, [400, 1]), tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    model = MLP(2, [3, 1])
    before = state(model)
    with pytest.raises(ModelFileError, match=r"a named pipe \(FIFO\), not a regular file"):
        load_into(model, fifo)
    assert state(model) == before


def test_a_directory_or_device_is_refused(tmp_path: Path) -> None:
    with pytest.raises((ModelFileError, PermissionError), match="directory|Permission"):
        load(tmp_path)
    if os.path.exists("/dev/zero"):  # endless: reading it would never stop
        with pytest.raises(ModelFileError, match="a character device, not a regular file"):
            load("/dev/zero")


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.json")


# -- saving ------------------------------------------------------------------------------
def test_a_diverged_model_is_not_saved(tmp_path: Path) -> None:
    model = MLP(2, [2, 1])
    model.parameters()[2].data = float("nan")
    with pytest.raises(ValueError, match="parameter 'b1' is nan; only finite numbers"):
        save(model, tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


def interrupted_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    """Save once, then save a different model while ``target`` fails: nothing changes."""
    path = tmp_path / "model.json"
    save(MLP(2, [3, 1], seed=0), path)
    before = path.read_bytes()

    def dump_half_then_fail(obj: Any, f: Any, **kwargs: Any) -> None:
        text = json.dumps(obj, **kwargs)
        f.write(text[: len(text) // 2])
        f.flush()
        raise OSError(28, "No space left on device")

    def fail(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # even an interrupt leaves no temporary file

    if target == "json.dump":
        monkeypatch.setattr(nn.serialize.json, "dump", dump_half_then_fail)
        expected: type[BaseException] = OSError
    else:
        monkeypatch.setattr(nn.serialize.os, target.removeprefix("os."), fail)
        expected = KeyboardInterrupt
    with pytest.raises(expected):
        save(MLP(2, [3, 1], seed=5), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]  # no stray temporary
    assert load(path).get_weights() == MLP(2, [3, 1], seed=0).get_weights()


@pytest.mark.parametrize("target", ["json.dump", "os.fsync", "os.replace", "os.fdopen"])
def test_an_interrupted_save_leaves_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    interrupted_save(tmp_path, monkeypatch, target)


def test_an_interrupted_first_save_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(nn.serialize.os, "replace", fail)
    with pytest.raises(OSError, match="disk gone"):
        save(MLP(2, [1]), tmp_path / "new.json")
    assert list(tmp_path.iterdir()) == []


def test_saving_over_a_file_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    save(MLP(2, [3, 1], seed=0), path)
    save(MLP(2, [3, 1], seed=1), path)
    assert load(path).get_weights() == MLP(2, [3, 1], seed=1).get_weights()
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


@pytest.mark.parametrize("name", ["m" * 250 + ".json", "é" * 125 + ".json"], ids=["ascii", "utf8"])
def test_a_name_of_the_longest_length_allowed_is_saved(tmp_path: Path, name: str) -> None:
    # 255 bytes, the most most file systems allow: the temporary beside it must fit too.
    longest = os.pathconf(tmp_path, "PC_NAME_MAX") if hasattr(os, "pathconf") else 255
    if len(os.fsencode(name)) > longest:
        pytest.skip(f"this file system allows names of {longest} bytes")
    path = tmp_path / name
    save(MLP(2, [3, 1], seed=2), path)
    save(MLP(2, [3, 1], seed=3), path)  # over an existing file too
    assert load(path).get_weights() == MLP(2, [3, 1], seed=3).get_weights()
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary left


def test_an_interrupt_just_after_the_temporary_is_made_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C can land after os.open made the file but before its name is known
    # to the code that would clean it up.
    real_open = os.open

    def open_then_interrupt(path: Any, flags: int, mode: int = 0o777) -> int:
        fd = real_open(path, flags, mode)
        if flags & os.O_CREAT:
            os.close(fd)
            raise KeyboardInterrupt
        return fd

    monkeypatch.setattr(nn.serialize.os, "open", open_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        save(MLP(2, [1]), tmp_path / "m.json")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_saving_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    if not hasattr(os, "symlink"):
        pytest.skip("no symbolic links")
    (tmp_path / "models").mkdir()
    real = tmp_path / "models" / "real.json"
    link = tmp_path / "latest.json"
    save(MLP(2, [3, 1], seed=0), real)
    link.symlink_to(real)
    save(MLP(2, [3, 1], seed=1), link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert load(real).get_weights() == MLP(2, [3, 1], seed=1).get_weights()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["latest.json", "models", "real.json"]


def test_a_dangling_symlink_is_saved_through(tmp_path: Path) -> None:
    if not hasattr(os, "symlink"):
        pytest.skip("no symbolic links")
    link = tmp_path / "latest.json"
    link.symlink_to(tmp_path / "new.json")
    save(MLP(2, [1], seed=2), link)
    assert link.is_symlink()
    assert load(tmp_path / "new.json").get_weights() == MLP(2, [1], seed=2).get_weights()


def test_saving_over_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    path = tmp_path / "m.json"
    save(MLP(2, [1], seed=0), path)
    for mode in (0o600, 0o640, 0o444):
        path.chmod(mode)
        save(MLP(2, [1], seed=1), path)
        assert path.stat().st_mode & 0o777 == mode
    assert load(path).get_weights() == MLP(2, [1], seed=1).get_weights()
