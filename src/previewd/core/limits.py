"""Every bound on a value previewd accepts from outside, defined once.

Intake (webhook payloads, GitHub API answers), the store's columns and the renderers all read
these, so a value that passes intake always fits the store and the Kubernetes objects.
"""

from __future__ import annotations

from datetime import timedelta

PR_NUMBER_MIN = 1
PR_NUMBER_MAX = 2**31 - 1  # GitHub numbers are positive 32-bit integers; both store backends agree
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1  # the store's integer columns
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # the store's big-integer columns (comment ids)

MAX_REPO_NAME_CHARS = 200  # owner/name; GitHub allows 39 + 1 + 100
MAX_LOGIN_CHARS = 100  # GitHub logins are at most 39 characters, bot logins add "[bot]"
MAX_USER_TYPE_CHARS = 40  # "User", "Bot", "Organization", "Mannequin"
MAX_LABEL_NAME_CHARS = 100  # GitHub allows 50
MAX_LABELS = 100  # GitHub allows 100 labels on an issue or pull request
MAX_TIMESTAMP_CHARS = 40  # an ISO 8601 date-time with fractions and an offset fits easily
MAX_EVENT_ACTION_CHARS = 64  # a webhook's "action" ("opened", "synchronize", "ready_for_review"...)
MAX_DELIVERY_ID_CHARS = 200  # GitHub sends a UUID (36), registries a SHA-256 hex digest (64)
MAX_IMAGE_REPOSITORY_CHARS = 255  # Distribution's limit on a repository name (path in a registry)
MAX_DIGEST_CHARS = 160  # an image digest; "sha512:" + 128 hex digits fits
COMMIT_SHA_CHARS = 40  # a Git (SHA-1) commit id, lower-case hex, as GitHub sends it

# A PR snapshot dated later than this past previewd's clock is not trusted: snapshots are ordered
# by ``updated_at``, and a far-future one would make every real later event look stale.
MAX_CLOCK_SKEW = timedelta(hours=1)

MAX_TEXT_CHARS = 1_000_000  # any unbounded text column (JSON records, reasons, errors)

# Kubernetes caps all annotations of one object together at 256 KiB; previewd keeps each of its
# own values far below that so an object never comes near the cap.
MAX_ANNOTATIONS_BYTES = 256 * 1024
MAX_ANNOTATION_VALUE_CHARS = 1024
MAX_LABEL_VALUE_CHARS = 63  # Kubernetes label values
