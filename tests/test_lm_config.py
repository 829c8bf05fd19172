"""Settings, presets and the command line of collapse_utils.lm (chapter 6): no model runs here."""

import json

import pytest

from collapse_utils.lm import PRESETS, RunConfig, TrainingSettings, preset
from collapse_utils.lm.__main__ import main, parse
from collapse_utils.lm.config import GROUPS, OWNER, WIKITEXT2_TRAIN_BLOCKS


def test_paper_preset_has_the_papers_settings():
    c = preset("paper")
    assert (c.model, c.data) == ("facebook/opt-125m", "wikitext")
    assert (c.block_size, c.new_tokens, c.num_beams, c.repetition_penalty) == (64, 64, 5, 3.0)
    assert (c.lr, c.lr_min, c.batch_size) == (2e-5, 1e-6, 128)
    assert (c.epochs_for("replace"), c.epochs_for("keep_real")) == (5, 10)
    assert c.real_fraction == 0.1
    assert c.regimes == ("replace", "keep_real")
    assert c.generations == 10 and len(c.seeds) == 5
    assert c.prompt_source == "real"


def test_paper_preset_trains_as_the_official_code():
    """iliaishacked/curse_recurse: AdamW with PyTorch's defaults, CosineAnnealingLR(T_max=epochs)
    stepped per epoch, no clipping, the in-memory (last) weights test and generate, and
    --generate_percentage keeps a share of batches real in a set of constant size."""
    c = preset("paper")
    assert (c.weight_decay, c.grad_clip, c.lr_schedule, c.warmup_steps) == (0.01, None, "epoch", 0)
    assert (c.weights, c.real_mix) == ("last", "batches")


def test_protocol_table_reads_the_presets():
    from collapse_utils.lm.protocol import PROTOCOL, protocol_table

    table = protocol_table()
    assert len(table) == len(PROTOCOL)
    assert table.loc["gradient clipping", "paper preset"] == "grad_clip=None"
    small = preset("cpu-small").batch_size
    assert table.loc["batch (blocks)", "cpu-small preset"] == f"batch_size={small}"
    for label, fields, *_ in PROTOCOL:  # every setting named exists
        for name in () if isinstance(fields, str) else fields:
            assert hasattr(RunConfig(), name), (label, name)


def test_colab_and_cpu_small_presets():
    colab = preset("colab")
    assert colab.precision == "fp16" and len(colab.seeds) < len(preset("paper").seeds)
    diff = {k for k, v in colab.identity().items() if v != preset("paper").identity()[k]}
    # beyond execution settings and the number of seeds, colab only trains on fewer blocks
    assert diff == {"max_train_blocks"} and colab.max_train_blocks == WIKITEXT2_TRAIN_BLOCKS // 5
    small = preset("cpu-small")
    assert set(small.regimes) == {"replace", "keep_real"}
    assert small.generations >= 5 and len(small.seeds) >= 2
    assert (small.data, small.model, small.device) == ("synthetic", "tiny", "cpu")


def test_every_preset_is_described_and_valid():
    for name, (text, changes) in PRESETS.items():
        assert text
        c = preset(name)
        assert all(getattr(c, k) == v for k, v in changes.items())


def test_settings_are_grouped_by_concern_and_read_by_name():
    c = preset("cpu-small", lr=1e-4)
    assert c.lr == c.training.lr == 1e-4 and isinstance(c.training, TrainingSettings)
    assert set(OWNER) == set(c.to_dict())  # every setting has one name and one group
    assert {OWNER[k] for k in ("seeds", "device", "model", "data", "num_beams")} == {
        "experiment", "execution", "base_model", "corpus", "decoding"}
    assert set(GROUPS) == {f for f in RunConfig.__dataclass_fields__}
    assert RunConfig.from_dict(c.to_dict()) == c
    with pytest.raises(AttributeError, match="no setting 'lrr'"):
        c.lrr  # noqa: B018


def test_the_command_line_parses_text_into_typed_settings():
    c, args, _ = parse(["--epochs", "3", "--seeds", "0,1,2", "--regimes", "replace",
                        "--set", "lr=1e-4", "--max_train_blocks", "none", "--no-progress",
                        "--threads", "2", "--score_sequences", "false", "--out", "x"])
    assert c.epochs == 3 and all(c.epochs_for(r) == 3 for r in ("replace", "keep_real"))
    assert c.seeds == (0, 1, 2) and c.regimes == ("replace",) and c.lr == 1e-4
    assert c.max_train_blocks is None and c.progress is False and c.score_sequences is False
    assert c.num_threads == 2 and args.out == "x"
    assert c == preset("cpu-small", epochs=3, seeds=(0, 1, 2), regimes=("replace",), lr=1e-4,
                       progress=False, num_threads=2, score_sequences=False)
    paper, _, _ = parse(["--preset", "paper", "--max-train-blocks", "100"])
    assert paper == preset("paper", max_train_blocks=100)


@pytest.mark.parametrize(
    "changes, name",
    [
        (dict(block_size=100), "block_size"),  # 100 + 64 > tiny context 128
        (dict(new_tokens=100), "block_size + new_tokens"),
        (dict(real_fraction=1.5), "real_fraction"),
        (dict(real_fraction=-0.1), "real_fraction"),
        (dict(regimes=("replace", "forget")), "regimes"),
        (dict(regimes=()), "regimes"),
        (dict(seeds=(0, 0)), "seeds"),
        (dict(lr=0), "lr"),
        (dict(lr_min=1.0), "lr_min"),
        (dict(num_beams=0), "num_beams"),
        (dict(precision="fp8"), "precision"),
        (dict(data="web"), "data"),
        (
            dict(
                data="files",
                train_file="/nonexistent/train.txt",
                validation_file="/nonexistent/v.txt",
                test_file="/nonexistent/t.txt",
            ),
            "train_file",
        ),
        (dict(data="files"), "train_file"),
        (dict(tiny_hidden=30, tiny_heads=4), "tiny_hidden"),
        (dict(lr_schedule="linear"), "lr_schedule"),
        (dict(weights="best"), "weights"),
        (dict(real_mix="on top"), "real_mix"),
        (dict(warmup_steps=10), "warmup_steps needs lr_schedule='step'"),
        (dict(generations="3"), "generations must be an integer >= 1"),
        (dict(max_train_blocks=0), "max_train_blocks must be an integer >= 1 or None"),
        (dict(seeds=[0, -1]), "seeds must be an integer >= 0"),
        (dict(progress="no"), "progress must be True or False"),
        (dict(model=""), "model must be a non-empty text"),
        (dict(grad_clip=float("inf")), "grad_clip must be a number > 0"),
    ],
)
def test_bad_settings_raise_naming_the_setting(changes, name):
    with pytest.raises(ValueError, match=name.replace("+", r"\+")):
        preset("cpu-small", **changes)


def test_paper_block_size_checked_against_opt_context():
    with pytest.raises(ValueError, match="context of 2048"):
        preset("paper", block_size=2000)


def test_unknown_preset_and_setting():
    with pytest.raises(ValueError, match="preset"):
        preset("gpu-huge")
    with pytest.raises(ValueError, match="unknown setting 'epoch'; did you mean 'epochs'"):
        preset("cpu-small", epoch=3)


def test_fp16_on_cpu_is_refused_before_work():
    c = preset("colab", device="cpu")  # building it is fine (dry runs, docs)
    with pytest.raises(ValueError, match="precision='fp16' needs a CUDA device"):
        c.check_environment()


def run_cli(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    return exc.value.code, capsys.readouterr()


@pytest.mark.parametrize(
    "argv, text",
    [
        (["--preset", "nope", "--out", "x"], "--preset"),
        (["--set", "real_fraction=2", "--out", "x"], "real_fraction"),
        (["--set", "block_size=200", "--out", "x"], "block_size"),
        (["--regimes", "replace,forget", "--out", "x"], "regimes"),
        (["--generations", "many", "--out", "x"], "--generations: invalid int"),
        (["--precision", "fp8", "--out", "x"], "--precision: invalid choice"),
        (["--epoch", "3", "--out", "x"], "unknown setting '--epoch'"),
        (
            [
                "--data",
                "files",
                "--train-file",
                "/no/such.txt",
                "--validation-file",
                "/no/v.txt",
                "--test-file",
                "/no/t.txt",
                "--out",
                "x",
            ],
            "train_file",
        ),
        (["--set", "nonsense", "--out", "x"], "NAME=VALUE"),
        (["--set", "nosuch=1", "--out", "x"], "unknown setting"),
        ([], "--out is required"),
        (["--preset", "colab", "--device", "cpu", "--out", "x"], "needs a CUDA device"),
    ],
)
def test_cli_bad_settings_give_a_clean_usage_error(capsys, argv, text, tmp_path):
    code, out = run_cli(capsys, *argv)
    assert code == 2
    assert text in out.err and "Traceback" not in out.err
    assert len(out.err.strip().splitlines()) == 1  # one line, not the usage of every setting
    assert not (tmp_path / "x").exists()


def test_cli_list_presets_and_dry_run(capsys):
    assert main(["--list-presets"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in PRESETS)
    assert main(["--preset", "paper", "--dry-run", "--set", "epochs=3", "--seeds", "0,1"]) == 0
    out = capsys.readouterr().out
    settings = json.loads(out[: out.index("\n# resolved")])
    assert settings["epochs"] == 3 and settings["seeds"] == [0, 1]
    assert settings["model"] == "facebook/opt-125m"
    assert RunConfig.from_dict(settings) == preset("paper", epochs=3, seeds=(0, 1))


def test_cli_help_lists_every_setting_by_group(capsys):
    code, out = run_cli(capsys, "--preset", "paper", "--help")
    assert code == 0
    for group in GROUPS.values():
        assert f"\n{group._argument_group_name}:\n" in out.out
    assert all(f"--{name}" in out.out for name in OWNER)
    assert "{auto,fp32,fp16,bf16}" in out.out and "(default: facebook/opt-125m)" in out.out


def test_run_dir_follows_the_environment_else_the_repository(monkeypatch):
    from pathlib import Path

    from collapse_utils import lm

    monkeypatch.setenv("COLLAPSE_UTILS_RUNS", "/data/runs")
    assert lm.run_dir("cpu-small") == "/data/runs/cpu-small"
    monkeypatch.delenv("COLLAPSE_UTILS_RUNS")
    repo = Path(__file__).resolve().parents[1]  # the book's own runs, when run from the repo
    assert lm.run_dir("cpu-small") == str(repo / "_build" / "runs" / "cpu-small")


def test_cli_out_naming_a_file_is_a_clean_usage_error(capsys, tmp_path):
    file = tmp_path / "results.txt"
    file.write_text("not a folder")
    code, out = run_cli(capsys, "--out", str(file))
    assert code == 2 and "is a file; give a folder" in out.err and "Traceback" not in out.err


def test_cli_read_only_out_is_a_clean_usage_error(capsys, tmp_path, monkeypatch):
    import os

    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if str(p).startswith(str(tmp_path))
                        else real_access(p, m))
    code, out = run_cli(capsys, "--out", str(tmp_path / "new" / "run"))
    assert code == 2 and "cannot be written to" in out.err and "read-only" in out.err
    assert not (tmp_path / "new").exists()


def test_cli_ctrl_c_ends_in_one_line_and_exit_130(capsys, tmp_path, monkeypatch):
    from collapse_utils.lm import runner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run", interrupted)
    assert main(["--out", str(tmp_path / "run")]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "resume" in err and "Traceback" not in err


def test_cli_out_under_a_file_is_a_clean_usage_error(capsys, tmp_path):
    file = tmp_path / "results.txt"
    file.write_text("not a folder")
    code, out = run_cli(capsys, "--out", str(file / "run"))
    assert code == 2 and "cannot be created" in out.err and "Traceback" not in out.err


def test_a_run_that_cannot_load_its_model_leaves_no_folder(tmp_path, monkeypatch):
    from collapse_utils.lm import HubUnavailableError, runner

    def offline(*args, **kwargs):
        raise HubUnavailableError("the hub is not reachable")

    monkeypatch.setattr(runner, "load_pretrained", offline)
    with pytest.raises(HubUnavailableError):
        runner.run("paper", str(tmp_path / "run"), device="cpu", precision="fp32")
    assert not (tmp_path / "run").exists()
