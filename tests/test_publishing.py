"""What publishes the book stays consistent with the book: deploy workflow, citation file, one repository URL."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _config_url() -> str:
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def test_citation_file_names_the_repository_of_the_book():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("title", "authors", "message", "version", "license"):
        assert cff.get(key), f"CITATION.cff lacks {key}"
    assert cff["repository-code"] == _config_url()
    assert "CITATION.cff" in (ROOT / "book" / "intro.md").read_text(), "the intro says how to cite"


def test_deploy_workflow_builds_tests_and_publishes_with_the_pages_actions():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    on = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads the key `on` as True
    assert on["push"]["branches"] == ["main"]
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    runs = [step.get("run", "") for step in build["steps"]]
    uses = [step.get("uses", "").split("@")[0] for step in build["steps"] + deploy["steps"]]
    for command in ("make book", "make test", "make check-html"):
        assert command in runs, f"the workflow does not run {command}"
    for action in ("actions/cache", "actions/upload-pages-artifact", "actions/deploy-pages"):
        assert action in uses, f"the workflow does not use {action}"
    caches = [step for step in build["steps"] if step.get("uses", "").startswith("actions/cache")]
    cached = " ".join(step["with"]["path"] for step in caches)
    assert ".venv" in cached and "data/artifacts" in cached
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    upload = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
