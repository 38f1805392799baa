#!/usr/bin/env bash
# Size of the codebase: non-blank, non-comment lines of Rust per crate,
# library code and tests separately, and the number of op spellings.
set -euo pipefail
cd "$(dirname "$0")/.."
count() { # count FILES... -> lines that are neither blank nor pure // comments
    cat "$@" 2>/dev/null | grep -vE '^\s*$|^\s*//' | wc -l
}
printf "%-10s %8s %8s\n" crate src tests
for crate in ir compiler runtime .; do
    name=$crate; [ "$crate" = . ] && name=kiln
    src=$(find "$crate/src" -name '*.rs' -not -path '*/tests.rs' -not -path '*/tests/*' | sort)
    tests=$(find "$crate/tests" "$crate/src" -name '*.rs' \( -path '*/tests/*' -o -name 'tests.rs' \) 2>/dev/null | sort)
    [ "$crate" = . ] && src=$(find src -name '*.rs' | sort) && tests=$(find tests -name '*.rs' | sort)
    printf "%-10s %8s %8s\n" "$name" "$(count $src)" "$(count $tests)"
done
printf "%-10s %8s\n" examples "$(count $(find examples -name '*.rs'))"
ops=$(grep -cE '^\s+Op::[A-Za-z0-9]+.*=> "[a-z0-9_]+",' ir/src/op.rs)
unary=$(grep -cE '^\s+UnaryOp::[A-Za-z]+ => "' ir/src/op.rs)
binary=$(grep -cE '^\s+BinaryOp::[A-Za-z]+ => "' ir/src/op.rs)
reduce=$(grep -cE '^\s+ReduceOp::[A-Za-z]+ => "' ir/src/op.rs)
echo "op spellings: $((ops + unary + binary + reduce)) ($ops op kinds + $unary unary + $binary binary + $reduce reductions)"
