#!/bin/sh
# Ansible vault password client for inventories/prod (--vault-password-file points here).
# The password never sits in the repository: it comes from DJSTACK_VAULT_PASSWORD, or from
# the file named by DJSTACK_VAULT_PASSWORD_FILE (default ~/.config/djstack/vault-password).
set -eu
if [ -n "${DJSTACK_VAULT_PASSWORD:-}" ]; then
	printf '%s\n' "$DJSTACK_VAULT_PASSWORD"
	exit 0
fi
file="${DJSTACK_VAULT_PASSWORD_FILE:-$HOME/.config/djstack/vault-password}"
if [ ! -r "$file" ]; then
	echo "inventories/prod/vault-password.sh: set DJSTACK_VAULT_PASSWORD, or put the vault password in $file (or the file named by DJSTACK_VAULT_PASSWORD_FILE)" >&2
	exit 1
fi
head -n 1 "$file"
