"""Branches of a project's repositories, as uploads name them: retiring one that was deleted or
merged, so its findings stop counting as open."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.server.api import Auth, BranchParam, RepositoryParam, project_by_slug
from bastion.server.auth import Principal, require
from bastion.server.deps import DB
from bastion.store.branches import branch_ref, retire_branch
from bastion.store.models import Project, utcnow

__all__ = ["api"]

api = APIRouter(prefix="/api/v1", tags=["api"])


@api.delete("/projects/{slug}/branches")
def retire(
    slug: str,
    repository: str | None = RepositoryParam,
    branch: str | None = BranchParam,
    unnamed: bool = False,
    who: Principal = Auth,
    session: Session = DB,
) -> dict[str, Any]:
    """Forget a branch (deleted or merged), named as an upload names it: its findings' rows go, and
    a finding open on no other branch is fixed. The unnamed place (uploads that named neither, and
    findings stored before branches were tracked) needs ``unnamed=true``. Needs the upload right."""
    project = project_by_slug(session, slug)
    require(who, session, project.id, "upload")
    ref = branch_ref(repository, branch)
    if not ref.named and not unnamed:
        raise HTTPException(
            422, "name the repository and branch to retire (unnamed=true for the unnamed place)"
        )
    session.execute(select(Project.id).where(Project.id == project.id).with_for_update()).one()
    done = retire_branch(session, project.id, ref, who.name, utcnow())
    return {"repository": ref.repository, "branch": ref.branch, "rows": done.rows, "fixed": done.fixed}
