#!/usr/bin/env bash
# STYLE.md rule 5: these functions are not used anywhere in our C sources.
set -u
root=${1:-.}
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|sscanf)[[:space:]]*\('
hits=$(grep -rnE "$banned" --include='*.c' --include='*.h' "$root/engine" "$root/content" "$root/cli" "$root/tests" 2>/dev/null | grep -v 'check_banned')
if [ -n "$hits" ]; then
    echo "banned functions used (STYLE.md rule 5):"
    echo "$hits"
    exit 1
fi
echo "no banned functions"
