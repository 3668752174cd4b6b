"""reportgen never removes, replaces or mixes files it did not write (issue 14, findings 1 to 4)."""

import errno
import fcntl
import json
import os
import subprocess
import sys

import pytest

from reportgen.results import files, manifest, store

from support.cli import assert_one_line_error, invoke, run_args

METHODS = "attention,saliency"


def run(model, data, out_dir, *extra, methods=METHODS):
    return invoke(*run_args(model, data, out_dir / "report.html", methods, "--results", out_dir / "results", *extra))


def snapshot(folder):
    """Every file under ``folder`` (links not followed) with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()}


def test_a_folder_of_someone_elses_files_is_refused_and_kept(bert_dir, csv_file, tmp_path):
    project = tmp_path / "proj"
    (project / "partial").mkdir(parents=True)
    (project / "attributions").mkdir()
    (project / "partial" / "thesis.tex").write_text("\\chapter{mine}")
    (project / "attributions" / "survey.jsonl").write_text('{"mine": 1}\n')
    before = snapshot(project)
    result = invoke(*run_args(bert_dir, csv_file, tmp_path / "report.html", METHODS, "--results", project))
    assert_one_line_error(result, r"results folder .*proj holds files reportgen did not write \(attributions, partial\)")
    assert snapshot(project) == before
    assert not (tmp_path / "report.html").exists()


def test_the_default_results_folder_beside_the_report_is_refused_too(bert_dir, csv_file, tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "notes.txt").write_text("mine")
    result = invoke(*run_args(bert_dir, csv_file, tmp_path / "report.html", METHODS))
    assert_one_line_error(result, r"results folder .*results holds files reportgen did not write \(notes\.txt\)")
    assert (tmp_path / "results" / "notes.txt").read_text() == "mine"


def test_foreign_files_inside_a_reportgen_folder_survive_a_rerun_and_an_overwrite(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    results = tmp_path / "results"
    (results / "partial").mkdir(exist_ok=True)  # a finished run removed its own checkpoint
    (results / "partial" / "thesis.tex").write_text("mine")
    (results / "attributions" / "survey.jsonl").write_text('{"mine": 1}\n')
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    assert run(bert_dir, csv_file, tmp_path, "--limit", "3", "--overwrite").exit_code == 0
    assert (results / "partial" / "thesis.tex").read_text() == "mine"
    assert (results / "attributions" / "survey.jsonl").read_text() == '{"mine": 1}\n'
    assert len(store.load(results).examples) == 3  # the foreign .jsonl is not read as a method's scores


def test_another_run_into_a_folder_needs_overwrite(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    before = snapshot(tmp_path / "results")
    result = run(bert_dir, csv_file, tmp_path, "--limit", "3")
    assert_one_line_error(result, r"holds another run \(other model, data or settings\); pass --overwrite")
    assert snapshot(tmp_path / "results") == before
    assert run(bert_dir, csv_file, tmp_path, "--limit", "3", "--overwrite").exit_code == 0
    assert len(store.load(tmp_path / "results").examples) == 3


@pytest.mark.parametrize("link", ["attributions", "partial"])
def test_a_link_inside_the_results_folder_is_refused_and_its_target_kept(bert_dir, csv_file, tmp_path, link):
    assert run(bert_dir, csv_file, tmp_path, "--keep-checkpoint").exit_code == 0  # partial/ stays, to be linked
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "survey.jsonl").write_text("mine\n")
    (elsewhere / "fingerprint.json").write_text("mine\n")
    moved = tmp_path / "results" / link
    os.rename(moved, tmp_path / "moved")
    moved.symlink_to(elsewhere, target_is_directory=True)
    result = run(bert_dir, csv_file, tmp_path, "--overwrite")
    assert_one_line_error(result, rf"{link} is a symbolic link; reportgen does not follow links")
    assert snapshot(elsewhere) == {"survey.jsonl": b"mine\n", "fingerprint.json": b"mine\n"}


def test_a_model_card_reportgen_did_not_write_is_kept(bert_dir, csv_file, tmp_path):
    (tmp_path / "model_card.md").write_text("# My model\n")
    result = run(bert_dir, csv_file, tmp_path)
    assert_one_line_error(result, r"model card .*model_card\.md exists and reportgen did not write it")
    assert (tmp_path / "model_card.md").read_text() == "# My model\n"
    assert not (tmp_path / "results").exists()  # refused before any work


def test_a_report_and_card_reportgen_wrote_are_replaced(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    first = (tmp_path / "model_card.md").read_bytes()
    assert first.startswith(b"---\n") and b"\n---\n<!-- written by reportgen" in first  # after the front matter
    (tmp_path / "report.html").write_bytes((tmp_path / "report.html").read_bytes().replace(b"<title>", b"<title>x"))
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    assert b"<title>x" not in (tmp_path / "report.html").read_bytes()


def test_a_linked_out_is_refused_not_written_through(bert_dir, csv_file, tmp_path):
    target = tmp_path / "precious.html"
    target.write_text("mine")
    (tmp_path / "report.html").symlink_to(target)
    result = run(bert_dir, csv_file, tmp_path)
    assert_one_line_error(result, r"report.html is a symbolic link; reportgen does not write through links")
    assert target.read_text() == "mine"


def test_render_refuses_a_foreign_out(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    (tmp_path / "notes.html").write_text("mine")
    result = invoke("render", tmp_path / "results", "--out", tmp_path / "notes.html")
    assert_one_line_error(result, r"notes\.html exists and reportgen did not write it")
    assert (tmp_path / "notes.html").read_text() == "mine"


# Finding 2: one run at a time on a folder, and no rows of another run.

def test_a_second_run_on_a_folder_in_use_exits_2_naming_the_pid(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from reportgen.results.folder import owned\n"
        "with owned(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)"), str(tmp_path / "results")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run(bert_dir, csv_file, tmp_path)
        assert_one_line_error(result, rf"results folder .*results is in use by pid {holder.pid} \(another reportgen run\)")
    finally:
        holder.kill()
        holder.wait()
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0  # the kernel dropped the dead holder's lock


def test_a_stale_lock_of_a_dead_process_is_taken_over(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "results" / "reportgen.lock").write_text(dead.stdout.strip())
    again = run(bert_dir, csv_file, tmp_path)
    assert again.exit_code == 0
    assert f"taking over the lock on {tmp_path / 'results'} left by pid {dead.stdout.strip()}" in again.output


def test_the_lock_is_an_exclusive_kernel_lock_held_for_the_run(tmp_path):
    from reportgen.results.folder import owned

    with owned(tmp_path / "r"):
        fd = os.open(tmp_path / "r" / "reportgen.lock", os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
    fd = os.open(tmp_path / "r" / "reportgen.lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when the run ended
    os.close(fd)


def test_checkpoint_rows_of_another_run_are_never_read(tmp_path):
    from reportgen.explain.checkpoint import Checkpoint, Unit
    from reportgen.results.records import Attribution

    first = Checkpoint(tmp_path / "r").open("run A", {"saliency": "key"})
    first.save_unit("saliency", 0, Unit([Attribution("saliency", 0, [1.0], [1.0])]))
    rows = tmp_path / "r" / "partial" / "saliency.jsonl"
    line = json.loads(rows.read_text())
    assert line["run"] == "run A"
    rows.write_text(json.dumps({**line, "run": "run B", "batch": 1}) + "\n" + json.dumps(line) + "\n")
    again = Checkpoint(tmp_path / "r").open("run A", {"saliency": "key"})
    assert again.unit("saliency", 1) is None and again.unit("saliency", 0) is not None


# Finding 3: a kill during the final save.

def killed_during_save(model, data, out_dir, step, *extra):
    """Run ``reportgen run`` in a child that dies (os._exit: no clean-up) in its final save, at the second
    file it writes under a temporary name (``step`` "stage") or at the second rename into place ("rename")."""
    child = (
        "import os, sys\n"
        "from reportgen.results import store\n"
        "calls = [0]\n"
        "def dying(real):\n"
        "    def call(*args):\n"
        "        calls[0] += 1\n"
        "        if calls[0] > 1: os._exit(137)\n"
        "        return real(*args)\n"
        "    return call\n"
        "if sys.argv[1] == 'stage': store.staged = dying(store.staged)\n"
        "else: store.os = type('os', (), {'replace': staticmethod(dying(os.replace))})\n"
        "from reportgen.cli import main\n"
        "sys.argv = ['reportgen'] + sys.argv[2:]\n"
        "main()\n"
    )
    args = run_args(model, data, out_dir / "report.html", METHODS, "--results", out_dir / "results", *extra)
    return subprocess.run([sys.executable, "-c", child, step, *map(str, args)], capture_output=True, text=True)


MORE = ("--methods", METHODS + ",grad_x_input")  # the same run with one more method: a save of other files


def test_a_kill_between_the_renames_leaves_a_folder_render_refuses(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    died = killed_during_save(bert_dir, csv_file, tmp_path, "rename", *MORE)
    assert died.returncode == 137, died.stderr
    result = invoke("render", tmp_path / "results", "--out", tmp_path / "again.html")
    assert_one_line_error(result, r"results folder .*results is incomplete: it has no manifest\.json")


def test_a_kill_before_the_renames_keeps_the_previous_complete_folder(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    before = store.load(tmp_path / "results")
    died = killed_during_save(bert_dir, csv_file, tmp_path, "stage", *MORE)
    assert died.returncode == 137, died.stderr
    assert store.load(tmp_path / "results") == before
    leftovers = list((tmp_path / "results").rglob(f"*{files.TEMPORARY}*"))
    assert leftovers  # the killed save left its temporaries ...
    assert run(bert_dir, csv_file, tmp_path, *MORE).exit_code == 0
    assert "grad_x_input" in store.load(tmp_path / "results").attributions
    assert not list((tmp_path / "results").rglob(f"*{files.TEMPORARY}*"))  # ... and the next run removed them


def test_a_file_changed_after_saving_is_refused(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    examples = tmp_path / "results" / "examples.jsonl"
    examples.write_text(examples.read_text().replace('"text": "', '"text": "X', 1))
    result = invoke("render", tmp_path / "results", "--out", tmp_path / "again.html")
    assert_one_line_error(result, r"does not match its manifest: examples\.jsonl was changed after it was saved")


def test_a_manifest_cannot_point_outside_the_folder(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    path = tmp_path / "results" / manifest.MANIFEST
    sealed = json.loads(path.read_text())
    sealed["files"].append({"file": "attributions/../../../etc/passwd.jsonl", "bytes": 1, "sha256": "0"})
    path.write_text(json.dumps(sealed))
    result = invoke("render", tmp_path / "results", "--out", tmp_path / "again.html")
    assert_one_line_error(result, r"manifest\.json: an entry is not a file of a results folder")


# Finding 4: a full disk.

def test_a_full_disk_keeps_the_previous_report_and_names_the_file(bert_dir, csv_file, tmp_path, monkeypatch):
    assert run(bert_dir, csv_file, tmp_path).exit_code == 0
    report = tmp_path / "report.html"
    before = report.read_bytes()
    real_write = os.write

    def full_after_a_few_bytes(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(f"report.html{files.TEMPORARY}-{os.getpid()}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(files.os, "write", full_after_a_few_bytes)
    result = invoke("render", tmp_path / "results", "--out", report)
    assert_one_line_error(result, rf"no space left on the device to write {report}: it needs [0-9.]+ MB; "
                                  r"[0-9.]+ MB free; the previous file, if any, is kept")
    assert report.read_bytes() == before
    assert not list(tmp_path.glob(f".*{files.TEMPORARY}*"))


def test_a_finished_run_removes_its_checkpoint_unless_asked_to_keep_it(bert_dir, csv_file, tmp_path):
    assert run(bert_dir, csv_file, tmp_path / "a").exit_code == 0
    assert not (tmp_path / "a" / "results" / "partial").exists()  # one copy: the saved results
    first = store.load(tmp_path / "a" / "results")
    assert run(bert_dir, csv_file, tmp_path / "a").exit_code == 0  # a rerun computes again, to the same results
    assert store.load(tmp_path / "a" / "results").attributions == first.attributions
    assert run(bert_dir, csv_file, tmp_path / "b", "--keep-checkpoint").exit_code == 0
    kept = sorted(p.name for p in (tmp_path / "b" / "results" / "partial").iterdir())
    assert "fingerprint.json" in kept and "predictions.jsonl" in kept and "saliency.jsonl" in kept
