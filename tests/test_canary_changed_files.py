"""Changed files of a PR (GitHub adapter against FakeGitHub) and the canaries they select."""

from __future__ import annotations

from previewd.adapters.scm.github import GitHubScm
from previewd.changed_files import MAX_CHANGED_FILES, CanaryChoice
from previewd.config import GithubConfig
from previewd.core.canary_feedback import comment_lines, to_record
from tests.fakes import FakeClock, FakeGitHub, FakeSleep
from tests.support import REPO


def scm_for(fake: FakeGitHub) -> GitHubScm:
    config = GithubConfig.model_validate({"api_url": fake.url, "auth": {"token": fake.token}})
    clock = FakeClock(1_000_000.0)
    return GitHubScm(config, wall=clock, sleep=FakeSleep(clock))


def test_pull_files_follows_every_page_and_is_conditional(fake: FakeGitHub) -> None:
    names = [f"services/api/f{i}.py" for i in range(250)]
    fake.set_pull_files(REPO, 42, names)
    scm = scm_for(fake)
    assert scm.pull_files(REPO, 42) == names
    assert fake.count("GET", "/pulls/42/files") == 3
    counted = fake.counted
    assert scm.pull_files(REPO, 42) == names  # every page answered 304: free
    assert fake.counted == counted and scm.not_modified == 3


def test_pull_files_is_bounded_and_keeps_renamed_names(fake: FakeGitHub) -> None:
    fake.set_pull_files(REPO, 7, [f"f{i}" for i in range(MAX_CHANGED_FILES + 150)])
    assert len(scm_for(fake).pull_files(REPO, 7)) == MAX_CHANGED_FILES
    fake.set_pull_files(REPO, 8, ["services/store/new.py"])
    fake.repo(REPO)["files"][8][0]["previous_filename"] = "services/api/old.py"
    assert scm_for(fake).pull_files(REPO, 8) == ["services/store/new.py", "services/api/old.py"]


def test_comment_lists_canaries_and_why_with_inert_file_names() -> None:
    record = to_record([CanaryChoice("api", "services/api/`@evil` <b>x</b>\n.py", "services/api/**")])
    text = "\n".join(comment_lines(record, 42))
    assert "`api`" in text and "services/api/**" in text and "`42`" in text
    assert "`services/api/?@evil???b?x?/b??.py`" in text  # backticks, markup and newlines made inert
    assert "none" in "\n".join(comment_lines([], 42))
    assert comment_lines(None, 42) == []
