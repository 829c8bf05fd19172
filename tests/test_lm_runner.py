"""The resumable runner of collapse_utils.lm (chapter 6): regimes, files, kills and resumes."""

import json
import math
import os
import shutil

import pandas as pd
import pytest
import torch

from collapse_utils.lm import _io, histogram, load_results, run, summarize


class Killed(Exception):
    pass


@pytest.fixture(scope="module")
def config(tiny_lm_config):
    return tiny_lm_config(regimes=("replace", "keep_real"), generations=3)


class Recorder:
    """Records events; raises Killed at the first event matching ``kill``."""

    def __init__(self, kill=None):
        self.events, self.kill = [], kill

    def __call__(self, name, info):
        self.events.append((name, info))
        if self.kill is not None and self.kill(name, info):
            self.kill = None
            raise Killed(f"{name} {info}")

    def units(self, name="unit_start"):
        return [info["unit"] for n, info in self.events if n == name]


@pytest.fixture(scope="module")
def reference(config, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("lm_reference"))
    rec = Recorder()
    res = run(config, out, on_event=rec)
    return out, res, rec


def synthetic_tensors(out):
    found = {}
    for root, _, files in os.walk(os.path.join(out, "work")):
        if "synthetic.pt" in files:
            found[os.path.relpath(root, out)] = torch.load(os.path.join(root, "synthetic.pt"))
    return found


def assert_same_results(out, reference_out):
    a, b = load_results(out), load_results(reference_out)
    timing = [c for c in a.results.columns if c.endswith("_seconds")]
    pd.testing.assert_frame_equal(a.results.drop(columns=timing), b.results.drop(columns=timing))
    pd.testing.assert_frame_equal(a.sequences, b.sequences)
    pd.testing.assert_frame_equal(a.samples, b.samples)
    ta, tb = synthetic_tensors(out), synthetic_tensors(reference_out)
    assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)


def test_results_files_and_frames(reference, config):
    out, res, rec = reference
    for name in ("config.json", "results.csv", "samples.json", "reference.json"):
        assert os.path.exists(os.path.join(out, name)), name
    assert len(res.results) == 2 * 3 and len(res.done) == 6
    assert [n for n, _ in rec.events if n in ("trained", "evaluated", "generated", "scored")] \
        == ["trained", "evaluated", "generated", "scored"] * 6
    assert list(res.results[["regime", "generation"]].itertuples(index=False, name=None)) == [
        ("keep_real", 0),
        ("keep_real", 1),
        ("keep_real", 2),
        ("replace", 0),
        ("replace", 1),
        ("replace", 2),
    ]
    n = res.reference["blocks"]["train"]
    assert len(res.sequences) == 6 * n  # one row per generated sequence
    assert res.sequences["gen0_ppl"].gt(1).all()
    for col in ("test_ppl", "gen0_ppl_mean", "rare_mass_kept", "distinct_words"):
        assert res.results[col].notna().all(), col
    # 16-token test blocks rarely hold a whole sentence: these may be NaN here, not in cpu-small
    assert {"true_nll_per_word", "grammatical_share", "invalid_word_rate"} <= set(res.results)
    assert (res.results.test_ppl == res.results.test_loss.map(math.exp)).all()
    prompts = res.samples[res.samples.kind == "prompt"]
    assert len(prompts) == 6 and prompts.continuation.str.len().gt(0).all()
    assert res.reference["language"]["entropy_per_word"] > 0
    # only the generation-0 checkpoints are kept
    models = [r for r, d, f in os.walk(os.path.join(out, "work")) if r.endswith("model")]
    assert sorted(os.path.relpath(m, out) for m in models) == [
        "work/seed0/keep_real/gen0/model",
        "work/seed0/replace/gen0/model",
    ]
    assert not [f for r, d, fs in os.walk(out) for f in fs if ".tmp" in f]
    for tensor in synthetic_tensors(out).values():  # exactly new_tokens new tokens per block
        assert tuple(tensor.shape) == (n, config.new_tokens)


def test_regimes_mix_exactly_what_they_should(reference):
    _, res, _ = reference
    n = res.reference["blocks"]["train"]
    r = res.results.set_index(["regime", "generation"])
    assert r.loc[("replace", 0), ["real_blocks", "synthetic_blocks"]].tolist() == [n, 0]
    assert r.loc[("replace", 2), ["real_blocks", "synthetic_blocks"]].tolist() == [0, n]
    k = math.floor(0.1 * n + 0.5)
    for g in (1, 2):  # the official mix: k blocks stay real, the others are continuations
        assert r.loc[
            ("keep_real", g), ["real_blocks", "synthetic_blocks", "train_blocks"]
        ].tolist() == [k, n - k, n]
    assert r.loc[("keep_real", 1), "epochs"] == 3 and r.loc[("replace", 1), "epochs"] == 2


def test_keep_real_can_add_the_real_blocks_on_top(config, tmp_path):
    res = run(config.replace(regimes=("keep_real",), real_mix="add"), str(tmp_path))
    n = res.reference["blocks"]["train"]
    k = math.floor(0.1 * n + 0.5)
    g1 = res.results.set_index("generation").loc[1]
    assert [g1.real_blocks, g1.synthetic_blocks, g1.train_blocks] == [k, n, n + k]


def test_the_official_mix_keeps_real_blocks_in_place_of_their_continuations(config, tmp_path):
    """Generation 1's set is the real blocks at the kept indices and generation 0's continuations
    of every other block: no block appears as both."""
    from collapse_utils.lm.results import Unit, derive_seed
    from collapse_utils.lm.runner import _Run, real_subset

    cfg = config.replace(regimes=("keep_real",))
    run(cfg, str(tmp_path))
    ctx = _Run(cfg, str(tmp_path), None)
    ctx.prepare(resume=True)
    blocks, sizes = ctx.training_set(Unit(0, "keep_real", 1))
    real, syn = ctx.splits.train, ctx.synthetic(Unit(0, "keep_real", 0))
    idx = real_subset(len(real), cfg.real_fraction, derive_seed(0, "keep_real", 1, "real"))
    rest = sorted(set(range(len(real))) - set(idx.tolist()))
    expected = torch.cat([syn[rest], real[idx]])
    assert torch.equal(blocks.ids, expected) and sizes["train_blocks"] == len(real)


def test_accumulate_keeps_all_earlier_data(config, tmp_path):
    res = run(config.replace(regimes=("accumulate",)), str(tmp_path))
    n = res.reference["blocks"]["train"]
    assert res.results.train_blocks.tolist() == [n, 2 * n, 3 * n]
    assert res.results.real_blocks.tolist() == [n, n, n]


def test_prompts_can_be_the_previous_generated_blocks(config, tmp_path):
    res = run(config.replace(regimes=("replace",), prompt_source="previous"), str(tmp_path))
    blocks = res.samples[(res.samples.kind == "block")].set_index(["generation", "index"])
    for i in range(3):  # generation 1 continues what generation 0 generated
        assert blocks.loc[(1, i), "prompt"] == blocks.loc[(0, i), "continuation"]


def rerun_after_kill(config, tmp_path, kill):
    out = str(tmp_path / "run")
    first = Recorder(kill)
    with pytest.raises(Killed):
        run(config, out, on_event=first)
    second = Recorder()
    run(config, out, on_event=second)
    return out, first, second


def test_resume_after_a_kill_between_generations(config, reference, tmp_path):
    out, first, second = rerun_after_kill(
        config, tmp_path, lambda n, i: n == "unit_end" and i["unit"] == "seed0/keep_real/gen1"
    )
    assert_same_results(out, reference[0])
    assert first.units("unit_end") == [
        "seed0/replace/gen0",
        "seed0/replace/gen1",
        "seed0/replace/gen2",
        "seed0/keep_real/gen0",
        "seed0/keep_real/gen1",
    ]
    # Finished generations are not redone: the rerun starts with the next one.
    assert second.units() == ["seed0/keep_real/gen2"]


def test_resume_after_a_kill_between_training_and_generation(config, reference, tmp_path):
    unit = "seed0/keep_real/gen2"
    out, first, second = rerun_after_kill(
        config, tmp_path, lambda n, i: n == "trained" and i["unit"] == unit
    )
    assert_same_results(out, reference[0])
    assert second.units() == [unit]
    assert not [i for n, i in second.events if n == "epoch_end"]
    assert [i for n, i in second.events if n == "gen_batch"]


def test_resume_after_a_kill_within_training(config, reference, tmp_path):
    unit = "seed0/replace/gen1"
    out, first, second = rerun_after_kill(
        config, tmp_path, lambda n, i: n == "epoch_end" and i["unit"] == unit and i["epoch"] == 1
    )
    assert_same_results(out, reference[0])
    epochs = [i["epoch"] for n, i in second.events if n == "epoch_end" and i["unit"] == unit]
    assert epochs == [2]  # epoch 1 was not redone
    assert second.units()[0] == unit


def test_resume_after_a_kill_within_generation(config, reference, tmp_path):
    unit = "seed0/replace/gen2"
    out, first, second = rerun_after_kill(
        config, tmp_path, lambda n, i: n == "gen_batch" and i["unit"] == unit and i["start"] == 16
    )
    assert_same_results(out, reference[0])
    starts = [i["start"] for n, i in second.events if n == "gen_batch" and i["unit"] == unit]
    assert starts[0] == 32  # the first two batches were kept
    assert not [i for n, i in second.events if n == "epoch_end" and i["unit"] == unit]


def test_more_generations_extend_a_finished_run(config, reference, tmp_path):
    out = str(tmp_path / "run")
    shutil.copytree(reference[0], out)
    rec = Recorder()
    res = run(config.replace(generations=4, regimes=("replace",)), out, on_event=rec)
    assert rec.units() == ["seed0/replace/gen3"]
    assert len(res.results) == 4  # what this call asked for: replace, generations 0-3
    assert len(load_results(out).results) == 7  # the folder keeps keep_real's 3 too


def snapshot(out):
    """Every file of a folder with its content."""
    files = {}
    for root, _, names in os.walk(out):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, out)] = f.read()
    return files


def test_other_settings_in_the_same_folder_are_refused(config, reference):
    out = reference[0]
    before = snapshot(out)
    with pytest.raises(ValueError, match="other settings.*lr"):
        run(config.replace(lr=0.5), out)
    assert snapshot(out) == before


def test_a_finished_run_called_again_writes_nothing(config, reference, tmp_path):
    """The book's runs are resumed by every chapter and test that reads them: untouched."""
    out = str(tmp_path / "run")
    shutil.copytree(reference[0], out)
    before = snapshot(out)
    rec = Recorder()
    again = run(config.replace(eval_batch_size=7, keep_models="all", progress=False), out,
                on_event=rec)
    assert rec.units() == [] and snapshot(out) == before
    pd.testing.assert_frame_equal(again.results, reference[1].results)


def test_a_finished_run_can_be_read_only(config, reference, tmp_path, monkeypatch):
    """Autograding reads one shared, read-only run (the course's nbgrader folder): a call that
    has nothing to do writes nothing and needs no write access; a call that would write is
    refused before any work. (Root ignores file modes, so the folder is made read-only to
    ``os.access`` and every writer of the run fails.)"""
    out = str(tmp_path / "run")
    shutil.copytree(reference[0], out)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode & os.W_OK
                        and os.path.abspath(p).startswith(out) else real_access(p, mode, **kw))
    for writer in ("write_json", "write_csv", "torch_save", "remove"):
        monkeypatch.setattr(_io, writer, lambda *a, **k: pytest.fail("wrote to a finished run"))
    again = run(config.replace(regimes=("replace",)), out, on_event=Recorder())
    assert len(again.results) == config.generations
    with pytest.raises(ValueError, match="out_dir .* cannot be written to"):
        run(config.replace(generations=config.generations + 1), out)


def test_results_are_rebuilt_from_the_records(config, reference, tmp_path):
    """Killed after a unit's record but before results.csv: the next call only republishes."""
    out = str(tmp_path / "run")
    shutil.copytree(reference[0], out)
    os.remove(os.path.join(out, "results.csv"))
    os.remove(os.path.join(out, "samples.json"))
    rec = Recorder()
    run(config, out, on_event=rec)
    assert rec.units() == []
    assert_same_results(out, reference[0])


def test_summaries_and_histograms_for_figures(reference):
    _, res, _ = reference
    s = summarize(res.results, ["test_ppl", "rare_mass_kept"])
    assert set(s.columns) == {"regime", "generation", "measure", "mean", "sd", "n_seeds"}
    assert len(s) == 2 * 3 * 2 and (s.n_seeds == 1).all()
    h = histogram(res.sequences, generations=[0, 2], bins=10)
    assert list(h.columns[:2]) == ["regime", "generation"]
    assert len(h) == 2 * 2 * 10
    for _, g in h.groupby(["regime", "generation"]):
        assert g["count"].sum() == res.reference["blocks"]["train"]
        assert g["density"].sum() == pytest.approx(1.0)


def test_a_smaller_call_keeps_what_the_folder_holds_in_config_json(config, reference, tmp_path):
    out = str(tmp_path / "run")
    shutil.copytree(reference[0], out)
    before = open(os.path.join(out, "config.json")).read()
    run(config.replace(regimes=("replace",), generations=2, gen_batch_size=8), out)
    assert open(os.path.join(out, "config.json")).read() == before  # not rewritten
    run(config.replace(regimes=("accumulate",), generations=1), out)
    saved = json.load(open(os.path.join(out, "config.json")))  # extended, nothing lost
    assert saved["regimes"] == ["replace", "keep_real", "accumulate"]
    assert saved["generations"] == 3 and saved["gen_batch_size"] == config.gen_batch_size


def test_a_run_killed_before_its_first_unit_leaves_no_folder(config, tmp_path, monkeypatch):
    from collapse_utils.lm import runner

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner._Run, "reference", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(config, str(tmp_path / "run"))
    assert not (tmp_path / "run").exists()


def test_an_interrupted_folder_write_leaves_nothing_behind(tmp_path):
    from collapse_utils.lm import _io

    def write(folder):
        os.makedirs(folder)
        open(os.path.join(folder, "half"), "w").close()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _io.save_dir(str(tmp_path / "model"), write)
    assert os.listdir(tmp_path) == []


def test_leftovers_of_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    """A process killed outright (no exception to clean up on) leaves a temporary copy; the next
    write of the same path removes it, but not the copy of a writer still running."""
    from collapse_utils.lm import _io

    target = str(tmp_path / "model")
    dead = subprocess_pid()
    os.makedirs(f"{target}.tmp{dead}-0123abcd")
    open(f"{target}.json.tmp{dead}-0123abcd", "w").close()
    live = f"{target}.tmp{os.getpid()}-0123abcd"
    os.makedirs(live)
    _io.save_dir(target, lambda folder: os.makedirs(folder))
    _io.write_json(target + ".json", {})
    assert sorted(os.listdir(tmp_path)) == sorted(["model", "model.json", os.path.basename(live)])


def subprocess_pid() -> int:
    """The id of a process that has ended."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
