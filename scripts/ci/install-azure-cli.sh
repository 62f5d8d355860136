#!/usr/bin/env bash
# CI (debian:bookworm container): the Azure CLI from PyPI at AZURE_CLI_VERSION in its own venv,
# then kubectl and kubelogin through `az aks install-cli`, all on PATH for the following steps.
set -euo pipefail
: "${AZURE_CLI_VERSION:?set AZURE_CLI_VERSION}"
python3 -m venv /opt/azure-cli
/opt/azure-cli/bin/pip install --disable-pip-version-check -q "azure-cli==$AZURE_CLI_VERSION"
ln -sfn /opt/azure-cli/bin/az /usr/local/bin/az
az aks install-cli --install-location /usr/local/bin/kubectl --kubelogin-install-location /usr/local/bin/kubelogin
az version --output table
kubectl version --client
kubelogin --version
