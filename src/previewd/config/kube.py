"""Kubernetes API validation rules for config values previewd renders into manifests, so a
value ``check-config`` accepts is one the API server accepts (and ``serve`` never commits a
baseline that breaks every preview). Each rule mirrors the API server's own validation."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt

MIN_PORT = 1
MAX_PORT = 65535
MAX_LABEL_VALUE = 63
MAX_NAME_PART = 63
MAX_SUBDOMAIN = 253

Protocol = Literal["TCP", "UDP", "SCTP"]  # NetworkPolicyPort.protocol, case-sensitive
Port = Annotated[StrictInt, Field(ge=MIN_PORT, le=MAX_PORT)]

_NAME_PART = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?|[eE][+-]?[0-9]+)$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

# ResourceQuota names without a domain prefix must be standard; these count objects or ports
# and take whole numbers only.
_QUOTA_INTEGER = {"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
                  "persistentvolumeclaims", "services.nodeports", "services.loadbalancers"}
_QUOTA_STANDARD = _QUOTA_INTEGER | {
    "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory", "requests.storage",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage"}
_CONTAINER_STANDARD = {"cpu", "memory", "ephemeral-storage"}
_HUGEPAGES = re.compile(r"^(requests\.|limits\.)?hugepages-.+$")


def qualified_name_problem(value: str) -> str | None:
    """Why ``value`` is not a qualified name (``[prefix/]name``, as label keys), or None."""
    prefix, slash, name = value.rpartition("/")
    if slash and (not prefix or len(prefix) > MAX_SUBDOMAIN or not _SUBDOMAIN.match(prefix)):
        return f"{value!r}: the prefix before '/' must be a DNS subdomain"
    if not name or len(name) > MAX_NAME_PART or not _NAME_PART.match(name):
        return (f"{value!r}: the name must be 1-{MAX_NAME_PART} characters of letters, digits, "
                "'-', '_' or '.', starting and ending with a letter or digit")
    return None


def _label_key(value: str) -> str:
    problem = qualified_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _label_value(value: str) -> str:
    if value and (len(value) > MAX_LABEL_VALUE or not _NAME_PART.match(value)):
        raise ValueError(f"{value!r}: a label value is empty or 1-{MAX_LABEL_VALUE} characters of letters, "
                         "digits, '-', '_' or '.', starting and ending with a letter or digit")
    return value


def quantity_value(value: str) -> Decimal:
    """The number a Kubernetes quantity (``500m``, ``4Gi``, ``1e3``) stands for; ValueError if none."""
    match = _QUANTITY.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (for example 500m, 2, 128Mi, 4Gi)")
    number, suffix = Decimal(match["number"]), match["suffix"]
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if len(suffix) > 1 and suffix[0] in "eE":  # a decimal exponent; a lone E is exa
        return number.scaleb(int(suffix[1:]))
    return number.scaleb(_DECIMAL[suffix])


def _quantity(value: str) -> str:
    if quantity_value(value) < 0:
        raise ValueError(f"{value!r} must be greater than or equal to 0")
    return value


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as err:
        raise ValueError(f"{value!r} is not a CIDR such as 10.0.0.0/8 ({err})") from None
    if str(network) != value:  # the API server wants the canonical form
        raise ValueError(f"{value!r}: write it as {network}")
    return value


LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
Quantity = Annotated[str, AfterValidator(_quantity)]
Cidr = Annotated[str, AfterValidator(_cidr)]


def _resource_name_ok(name: str, standard: set[str]) -> bool:
    """A qualified name (else ValueError): prefixed (``x/y``), standard, or a hugepages size."""
    problem = qualified_name_problem(name)
    if problem:
        raise ValueError(problem)
    return "/" in name or name in standard or bool(_HUGEPAGES.match(name))


def check_quota(hard: dict[str, str]) -> None:
    """ResourceQuota ``spec.hard``: qualified names, standard unless prefixed, whole counts."""
    for name, value in hard.items():
        if not _resource_name_ok(name, _QUOTA_STANDARD):
            raise ValueError(f"{name!r} is not a standard quota resource ({', '.join(sorted(_QUOTA_STANDARD))}, "
                             "count/<resource>, or a name with a domain prefix)")
        amount = quantity_value(_quantity(value))
        if (name in _QUOTA_INTEGER or name.startswith("count/")) and amount != amount.to_integral_value():
            raise ValueError(f"{name}: {value!r} must be a whole number")


def check_limits(limits: dict[str, dict[str, str]]) -> None:
    """LimitRange Container limits (``default``, ``defaultRequest``, ``max`` by resource):
    standard or prefixed names, and defaultRequest <= default <= max as the API server demands."""
    values: dict[str, dict[str, Decimal]] = {}
    for field, resources in limits.items():
        for name, value in resources.items():
            if not _resource_name_ok(name, _CONTAINER_STANDARD):
                raise ValueError(f"{field}: {name!r} is not a container resource "
                                 "(cpu, memory, ephemeral-storage, hugepages-<size>, or a prefixed name)")
            values.setdefault(name, {})[field] = quantity_value(_quantity(value))
    for name, by_field in values.items():
        for low, high in (("default_request", "default"), ("default", "max"), ("default_request", "max")):
            if low in by_field and high in by_field and by_field[low] > by_field[high]:
                raise ValueError(f"{name}: {low} {limits[low][name]!r} is above {high} {limits[high][name]!r}")
