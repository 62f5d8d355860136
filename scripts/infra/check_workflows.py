"""Checks that every GitHub Actions job can run its steps the way the runner executes them.

Usage: check_workflows.py <repository root>

For each job of .github/workflows/*.yml that has steps (a call of a reusable workflow is checked
in that workflow):
- it runs in the `debian:bookworm` container (scripts/setup.sh installs Debian 12 packages) and
  its `run:` steps use bash;
- its steps are replayed in order, with what each one provides: packages of `apt-get install`,
  the tools of `scripts/setup.sh <parts>` (its APT_PACKAGES and .tools/bin), the programs of the
  setup actions (Go, Node.js, Spin, Helm, azure/login) and of scripts/ci/*.sh. Every command a
  `run:` step calls must exist at that point: a script path of the repository, a shell builtin or
  keyword, a program of the debian:bookworm image or one an earlier step installed;
- `scripts/setup.sh <parts>` names only parts setup.sh knows, and the programs setup.sh expects
  the machine to bring for those parts (Go, Node.js, a rustup toolchain, Spin when no
  ../shared/spin snapshot exists) are installed by an earlier step.
Prints one line per job and exits 1 when a job would fail.
"""
import re
import shlex
import sys
from pathlib import Path

import yaml

ROOT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
IMAGE = "debian:bookworm"

# Programs of the debian:bookworm image (essential packages: bash, coreutils, dpkg, apt, findutils,
# grep, sed, gzip, tar, util-linux, mawk, diffutils, hostname, login, debianutils).
BASE = set("""
apt-get apt apt-cache dpkg dpkg-query bash sh cat cp mv rm mkdir rmdir ln ls chmod chown touch echo printf
test [ true false env sort uniq head tail cut tr wc tee xargs find grep sed awk mawk gzip gunzip tar date
sleep id uname basename dirname readlink realpath mktemp seq stat sha256sum md5sum yes timeout nice nohup
diff cmp hostname which kill su runuser setsid flock stdbuf
""".split())
BUILTINS = set("""
if then else elif fi for while until do done case esac in function return exit export local set unset
shift source . cd pwd read declare typeset eval exec trap wait command type hash ulimit umask : { } ! [[ ]]
break continue let shopt mapfile readarray pushd popd getopts
""".split())
# Debian packages -> the programs a job calls from them.
PACKAGE_PROGRAMS = {
    "git": {"git"}, "curl": {"curl"}, "ca-certificates": set(), "python3-venv": {"python3"},
    "python3": {"python3"}, "openssl": {"openssl"}, "procps": {"ps", "pgrep", "pkill"},
    "shellcheck": {"shellcheck"}, "prometheus": {"prometheus", "promtool"},
    "prometheus-alertmanager": {"amtool"}, "postgresql-client-15": {"psql", "pg_isready"},
    "cargo-web": {"cargo"}, "rustc-web": {"rustc"}, "maven": {"mvn"}, "openjdk-17-jre-headless": {"java"},
    "gettext-base": {"envsubst"}, "patch": {"patch"}, "mosquitto-clients": {"mosquitto_sub", "mosquitto_pub"},
    "chromium": {"chromium"},
}
# Programs each setup.sh part links into .tools/bin (scripts/lib/common.sh puts it first in PATH
# of the scripts; a workflow step calls them through the scripts).
PART_PROGRAMS = {
    "python": {"yamllint"}, "wasmtime": {"wasmtime", "wasm-tools"}, "wasm": {"wasm-component-ld"},
    "spin": {"spin"}, "registry": {"registry"}, "dapr": {"daprd", "scheduler"}, "mail": {"mailpit"},
    "infra": {"helm", "kubeconform", "actionlint", "checkov", "zizmor", "terraform"},
    "kube": {"kube-apiserver", "etcd"}, "deny": {"cargo-deny"},
}
# What `uses:` actions put on PATH.
ACTION_PROGRAMS = {
    "actions/setup-go": {"go"}, "actions/setup-node": {"node", "npm", "npx"},
    "fermyon/actions/spin/setup": {"spin"}, "azure/setup-helm": {"helm"},
}
# What the repository's CI helper scripts install.
SCRIPT_PROGRAMS = {
    "scripts/ci/install-rustup.sh": {"rustup", "cargo", "rustc"},
    "scripts/ci/install-azure-cli.sh": {"az", "kubectl", "kubelogin"},
}


def setup_parts() -> tuple[list[str], list[str]]:
    text = (ROOT / "scripts/setup.sh").read_text()
    known = re.findall(r"^setup_([a-z]+)\(\)", text, re.M)
    default = re.search(r"parts=\(([a-z ]+)\)", text).group(1).split()
    return known, default


def apt_packages() -> list[str]:
    text = (ROOT / "scripts/setup.sh").read_text()
    return re.search(r"^APT_PACKAGES=\(([^)]*)\)", text, re.M).group(1).split()


def needs_preinstalled(parts: list[str]) -> set[str]:
    """What check_preinstalled in scripts/setup.sh demands for these parts."""
    need = set()
    for p in parts:
        if p in ("dapr", "mail", "infra", "kube", "schemas", "azurerm", "registry"):
            need.add("go")
        if p == "browser":
            need.add("node")
        if p == "deny":
            need.add("rustup")
        if p == "spin":
            need.add("spin")  # a ../shared/spin snapshot, or Spin of the pinned version on PATH
    return need


def strip_heredocs(script: str) -> str:
    """The shell text without here-document bodies (they are input, not commands)."""
    out, lines, i = [], script.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
        if m:
            end = m.group(1)
            i += 1
            while i < len(lines) and lines[i].strip() != end:
                i += 1
        i += 1
    return "\n".join(out)


def commands(script: str) -> list[list[str]]:
    """The simple commands of a run script, each as its words (variables left as they are)."""
    text = strip_heredocs(script).replace("\\\n", " ")
    text = re.sub(r"\$\(\([^()]*\)\)", "0", text)  # arithmetic
    # Command substitutions are commands too: each becomes a line of its own.
    subs = []
    while True:
        new = re.sub(r"\$\(([^()]*)\)", lambda m: subs.append(m.group(1)) or "SUBST", text)
        if new == text:
            break
        text = new
    result = []
    for line in text.splitlines() + subs:
        line = re.sub(r"(^|\s)#.*$", "", line)
        parts = re.split(r"\|\||&&|;|\|", line)
        for part in parts:
            try:
                words = shlex.split(part, posix=True)
            except ValueError:
                words = part.split()
            while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                words = words[1:]  # assignments before a command
            if words and words[0] in ("then", "else", "do", "!", "if", "while", "until", "elif", "time"):
                words = words[1:]
            if words:
                result.append(words)
    return result


def check_job(wf: str, job_id: str, job: dict, workflow_defaults: dict) -> list[str]:
    errors = []
    container = job.get("container")
    image = container.get("image") if isinstance(container, dict) else container
    if image != IMAGE:
        errors.append(f"runs in {image or 'the runner image ' + str(job.get('runs-on'))}, not the {IMAGE} container")
    shell = ((job.get("defaults") or {}).get("run") or {}).get("shell") or ((workflow_defaults.get("run") or {}).get("shell"))
    known_parts, default_parts = setup_parts()
    have = set(BASE) | set(BUILTINS)
    installed_go = installed_node = installed_rustup = installed_spin = False
    for n, step in enumerate(job.get("steps", []), 1):
        name = step.get("name") or step.get("uses") or f"step {n}"
        if "uses" in step:
            action = step["uses"].split("@")[0].lower()
            for prefix, progs in ACTION_PROGRAMS.items():
                if action == prefix.lower():
                    have |= progs
            installed_go |= action == "actions/setup-go"
            installed_node |= action == "actions/setup-node"
            installed_spin |= action == "fermyon/actions/spin/setup"
            continue
        if "run" not in step:
            continue
        if (step.get("shell") or shell) != "bash":
            errors.append(f"{name}: runs with {step.get('shell') or shell or 'the default shell'}, not bash")
        for words in commands(step["run"]):
            prog = words[0]
            if prog in ("bash", "sh", "python3", "/tmp/post-deploy/bin/python") and len(words) > 1 and not words[1].startswith("-"):
                path = words[1]
                if not path.startswith("$") and not (ROOT / path).is_file():
                    errors.append(f"{name}: {path} does not exist in the repository")
                if path in SCRIPT_PROGRAMS:
                    have |= SCRIPT_PROGRAMS[path]
                    installed_rustup |= path == "scripts/ci/install-rustup.sh"
                if path == "scripts/setup.sh":
                    parts = words[2:] or default_parts
                    unknown = [p for p in parts if p not in known_parts]
                    if unknown:
                        errors.append(f"{name}: scripts/setup.sh has no part {', '.join(unknown)}")
                    need = needs_preinstalled(parts)
                    missing = [w for w, ok in (("go", installed_go), ("node", installed_node),
                                               ("rustup", installed_rustup), ("spin", installed_spin)) if w in need and not ok]
                    if missing:
                        errors.append(f"{name}: scripts/setup.sh {' '.join(words[2:]) or '(all parts)'} needs "
                                      f"{', '.join(missing)} installed by an earlier step (README, Requirements)")
                    if "apt" in parts:
                        for pkg in apt_packages():
                            have |= PACKAGE_PROGRAMS.get(pkg, set())
                    for p in parts:
                        have |= PART_PROGRAMS.get(p, set())
                continue
            if prog in ("apt-get", "apt") and "install" in words:
                for pkg in words[words.index("install") + 1:]:
                    if not pkg.startswith("-"):
                        have |= PACKAGE_PROGRAMS.get(pkg, {pkg})
                continue
            if prog.startswith(("scripts/", "./scripts/")):
                if not (ROOT / prog).is_file():
                    errors.append(f"{name}: {prog} does not exist in the repository")
                continue
            if prog.startswith("/tmp/") or prog.startswith("$") or prog.startswith('"$'):
                continue  # a venv or path made by an earlier command of the same step
            if prog not in have:
                errors.append(f"{name}: `{prog}` is not installed at this point of the job")
    return errors


def deploy_contract() -> list[str]:
    """The deploy job's order: helm upgrade, the SpinApp rollouts of every app, the post-deploy
    tests (trusting the staging issuer's CA where staging uses Let's Encrypt staging), rollback."""
    errors = []
    wf = yaml.safe_load((ROOT / ".github/workflows/deploy-env.yml").read_text())
    steps = wf["jobs"]["deploy"]["steps"]
    runs = [st.get("run", "") for st in steps]
    def index(pattern: str) -> int:
        return next((i for i, r in enumerate(runs) if re.search(pattern, r)), -1)
    helm, rollouts, post = index(r"helm upgrade --install"), index(r"scripts/ci/wait-rollouts\.sh"), index(r"scripts/ci/post_deploy\.py")
    if not (0 <= helm < rollouts < post):
        errors.append("deploy-env.yml must run helm upgrade, then scripts/ci/wait-rollouts.sh, then scripts/ci/post_deploy.py")
    rollback = [st for st in steps if "helm rollback" in st.get("run", "")]
    if not rollback or "failure()" not in str(rollback[0].get("if", "")):
        errors.append("deploy-env.yml must roll back when the post-deploy tests fail")
    # The apps the rollout wait expects are the chart's enabled apps of each environment.
    wait = (ROOT / "scripts/ci/wait-rollouts.sh").read_text()
    expected = set(re.search(r'EXPECTED_APPS:-([^}]*)\}', wait).group(1).split())
    base = yaml.safe_load((ROOT / "k8s/chart/values.yaml").read_text())
    for env in ("staging", "prod"):
        over = yaml.safe_load((ROOT / f"k8s/chart/values-{env}.yaml").read_text()) or {}
        apps = {a for a, v in base["apps"].items() if (over.get("apps", {}).get(a, {}) or {}).get("enabled", v.get("enabled", True))}
        if apps != expected:
            errors.append(f"wait-rollouts.sh expects {sorted(expected)}, the {env} chart deploys {sorted(apps)}")
        server = ((over.get("ingress") or {}).get("clusterIssuer") or {}).get("server", "")
        if "acme-staging" in server:
            post_run = runs[post] if post >= 0 else ""
            if "letsencrypt-stg-root" not in post_run or "CA_BUNDLE" not in post_run:
                errors.append(f"{env} uses the Let's Encrypt staging issuer: the post-deploy step must trust its roots (CA_BUNDLE)")
    text = (ROOT / "scripts/ci/post_deploy.py").read_text()
    if 'os.environ.get("CA_BUNDLE")' not in text or "verify=VERIFY" not in text:
        errors.append("scripts/ci/post_deploy.py must verify the host with CA_BUNDLE")
    return errors


def main() -> int:
    failed = 0
    jobs = 0
    for e in deploy_contract():
        failed += 1
        print(f"FAIL deploy contract: {e}")
    for wf_path in sorted((ROOT / ".github/workflows").glob("*.yml")):
        wf = yaml.safe_load(wf_path.read_text())
        for job_id, job in (wf.get("jobs") or {}).items():
            if "steps" not in job:
                continue  # a call of a reusable workflow: checked in that file
            jobs += 1
            errors = check_job(wf_path.name, job_id, job, wf.get("defaults") or {})
            if errors:
                failed += 1
                print(f"FAIL {wf_path.name} {job_id}:")
                for e in errors:
                    print(f"  - {e}")
            else:
                print(f"ok   {wf_path.name} {job_id}: {IMAGE}, {len(job['steps'])} steps, every command available in order")
    print(f"» {jobs - failed} of {jobs} jobs run in {IMAGE} with every command of their run steps available")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
