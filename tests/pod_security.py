"""A checker for the Kubernetes Pod Security Standards, ``restricted`` profile (which includes
``baseline``), as the Pod Security admission controller applies it to a pod spec. Rules and
allowed values follow https://kubernetes.io/docs/concepts/security/pod-security-standards/
(latest policy version). Returns the violations; an empty list means the pod is admitted."""

from __future__ import annotations

from typing import Any

BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
RESTRICTED_ADD = {"NET_BIND_SERVICE"}
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
SECCOMP_OK = {"RuntimeDefault", "Localhost"}
APPARMOR_OK = {"RuntimeDefault", "Localhost"}
NON_VOLUME_KEYS = {"name"}


def _containers(pod: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{field}[{c.get('name', i)}]", c) for field in ("initContainers", "containers", "ephemeralContainers")
            for i, c in enumerate(pod.get(field) or [])]


def check_restricted(pod: dict[str, Any]) -> list[str]:
    """Violations of the restricted profile by a PodSpec (``template.spec`` of a workload)."""
    problems: list[str] = []
    pod_sc: dict[str, Any] = pod.get("securityContext") or {}
    containers = _containers(pod)
    # --- baseline ---
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            problems.append(f"{field} must not be true")
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess"):
        problems.append("hostProcess must not be true")
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            problems.append(f"sysctl {sysctl.get('name')} is not allowed")
    problems += _selinux("pod", pod_sc)
    problems += _profiles("pod", pod_sc)
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - NON_VOLUME_KEYS
        if "hostPath" in kinds:
            problems.append(f"volume {volume.get('name')}: hostPath is not allowed")
        if not kinds <= RESTRICTED_VOLUMES:
            problems.append(f"volume {volume.get('name')}: type {sorted(kinds - RESTRICTED_VOLUMES)} is not allowed")
    for where, container in containers:
        sc: dict[str, Any] = container.get("securityContext") or {}
        if sc.get("privileged"):
            problems.append(f"{where}: privileged must not be true")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            problems.append(f"{where}: hostProcess must not be true")
        for port in container.get("ports") or []:
            if port.get("hostPort", 0):
                problems.append(f"{where}: hostPort must be unset or 0")
        if sc.get("procMount", "Default") != "Default":
            problems.append(f"{where}: procMount must be Default")
        problems += _selinux(where, sc)
        problems += _profiles(where, sc)
        added = set((sc.get("capabilities") or {}).get("add") or [])
        if not added <= BASELINE_CAPABILITIES:
            problems.append(f"{where}: capabilities {sorted(added - BASELINE_CAPABILITIES)} may not be added")
        # --- restricted ---
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation must be false")
        dropped = set((sc.get("capabilities") or {}).get("drop") or [])
        if "ALL" not in dropped:
            problems.append(f"{where}: capabilities must drop ALL")
        if not added <= RESTRICTED_ADD:
            problems.append(f"{where}: only NET_BIND_SERVICE may be added")
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if non_root is not True:
            problems.append(f"{where}: runAsNonRoot must be true (on the container or the pod)")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
            problems.append(f"{where}: runAsUser must not be 0")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in SECCOMP_OK:
            problems.append(f"{where}: seccompProfile must be RuntimeDefault or Localhost (on the container or pod)")
    if pod_sc.get("runAsUser") == 0:
        problems.append("pod: runAsUser must not be 0")
    return problems


def _selinux(where: str, sc: dict[str, Any]) -> list[str]:
    options = sc.get("seLinuxOptions") or {}
    problems = []
    if options.get("type", "") not in SELINUX_TYPES:
        problems.append(f"{where}: seLinuxOptions.type {options['type']!r} is not allowed")
    if options.get("user") or options.get("role"):
        problems.append(f"{where}: seLinuxOptions.user and .role must be unset")
    return problems


def _profiles(where: str, sc: dict[str, Any]) -> list[str]:
    problems = []
    if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        problems.append(f"{where}: seccompProfile must not be Unconfined")
    if (sc.get("appArmorProfile") or {}).get("type", "RuntimeDefault") not in APPARMOR_OK:
        problems.append(f"{where}: appArmorProfile must be RuntimeDefault or Localhost")
    return problems


def pod_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod specs a manifest creates (a Pod, or a workload's pod template)."""
    kind, spec = doc.get("kind"), doc.get("spec") or {}
    if kind == "Pod":
        return [spec]
    if kind == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}:
        return [spec["template"]["spec"]]
    return []
