#!/bin/sh
# check_layering.sh: checks every `#include "x.h"` of the tree against the
# module map's allow-list (tests/layering.txt; docs/design.md, "Module map").
#
#   sh tests/check_layering.sh [ROOT [TABLE]]
#
# ROOT is the source tree (default: the current directory), TABLE the
# allow-list (default: ROOT/tests/layering.txt).  Every .c and .h file below
# ROOT (but for hidden folders and build*/ folders) is read; each quoted
# include is resolved as the compiler resolves it: first relative to the
# including file's directory, else as FOLDER/x.h for the folders of the table
# (the Makefile's -I folders).  The include is then allowed when the table's
# line for the including file's top-level folder names the header's folder,
# the header itself (FOLDER/x.h) or *.  System includes (<...>) are not
# checked.  An include that resolves to no header, or to headers in two
# folders, fails too, as does a folder with C sources that the table lacks.
#
# Prints one line per violation, "FILE:LINE: #include "x.h" ...: why", and
# exits 1; prints "module map: ok (...)" and exits 0 when there is none; exits
# 2 when ROOT or TABLE cannot be read or TABLE is malformed.  POSIX sh and awk
# only.

root=${1:-.}
table=${2:-$root/tests/layering.txt}

if [ ! -d "$root" ]; then
    echo "check_layering: $root is not a directory" >&2
    exit 2
fi
if [ ! -r "$table" ]; then
    echo "check_layering: cannot read the table $table" >&2
    exit 2
fi

# Every C file of the tree, relative to root, in a fixed order.
files=$(cd "$root" && find . \( -name '.?*' -o -name 'build*' \) -prune -o \
            -type f \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | LC_ALL=C sort)

printf '%s\n' "$files" | LC_ALL=C awk -v root="$root" -v table="$table" '
function fail(msg) { print msg; bad++ }
function table_error(msg) { print msg > "/dev/stderr"; table_bad = 1; exit 2 }

# a/b/../c -> a/c; a/./b -> a/b
function normalise(path,    n, i, parts, out, k, res) {
    n = split(path, parts, "/")
    k = 0
    for (i = 1; i <= n; i++) {
        if (parts[i] == "" || parts[i] == ".") continue
        if (parts[i] == ".." && k > 0 && out[k] != "..") { k--; continue }
        out[++k] = parts[i]
    }
    res = ""
    for (i = 1; i <= k; i++) res = res (i > 1 ? "/" : "") out[i]
    return res
}

function top(path) { sub(/\/.*/, "", path); return path }

BEGIN {
    # the table
    n_rules = 0
    while ((rc = (getline line < table)) > 0) {
        tline++
        sub(/#.*/, "", line)
        if (line ~ /^[ \t]*$/) continue
        if (line !~ /^[ \t]*[A-Za-z0-9_.-]+[ \t]*:/) {
            table_error(table ":" tline ": expected \"FOLDER: ALLOWED...\"")
        }
        folder = line; sub(/[ \t]*:.*/, "", folder); sub(/^[ \t]*/, "", folder)
        rest = line; sub(/^[^:]*:/, "", rest)
        if (folder in allow) {
            table_error(table ":" tline ": folder " folder " listed twice")
        }
        n = split(rest, items, /[ \t]+/)
        allow[folder] = " "
        for (i = 1; i <= n; i++)
            if (items[i] != "") allow[folder] = allow[folder] items[i] " "
        order[++n_rules] = folder
    }
    if (rc < 0) {
        table_error("check_layering: cannot read " table)
    }
    if (n_rules == 0) {
        table_error(table ": no folders")
    }
    # every allowed entry must name a folder of the table (or one header in it)
    for (f in allow) {
        n = split(allow[f], items, " ")
        for (i = 1; i <= n; i++) {
            it = items[i]
            if (it == "*") continue
            if (!(top(it) in allow)) {
                table_error(table ": " f ": " it " is not a folder of the table")
            }
        }
    }
}

# the file list: remember every file (to resolve includes) before reading any
{ if ($0 != "") { path[++n_files] = $0; exists[$0] = 1 } }

END {
    if (table_bad) exit 2
    # a single header in the table must exist
    for (f in allow) {
        n = split(allow[f], items, " ")
        for (i = 1; i <= n; i++)
            if (items[i] ~ /\// && !(items[i] in exists))
                table_error(table ": " f ": " items[i] " is not a header of the tree")
    }
    n_inc = 0
    for (fi = 1; fi <= n_files; fi++) {
        file = path[fi]
        if (file !~ /\//) {
            fail(file ": a C file at the top of the tree; it belongs in a module folder")
            continue
        }
        from = top(file)
        if (!(from in allow)) {
            if (!(from in unlisted))
                fail(file ": folder " from "/ holds C sources but is not in " table)
            unlisted[from] = 1
            continue
        }
        dir = file; sub(/\/[^\/]*$/, "", dir)
        lineno = 0
        src = root "/" file
        while ((rc = (getline line < src)) > 0) {
            lineno++
            if (line !~ /^[ \t]*#[ \t]*include[ \t]*"/) continue
            name = line; sub(/^[ \t]*#[ \t]*include[ \t]*"/, "", name)
            if (name !~ /"/) continue
            sub(/".*/, "", name)
            n_inc++
            where = file ":" lineno ": #include \"" name "\""
            # the including file'\''s directory first, as the compiler does
            target = normalise(dir "/" name)
            if (!(target in exists)) {
                target = ""
                found = 0
                for (r = 1; r <= n_rules; r++) {
                    cand = normalise(order[r] "/" name)
                    if (cand in exists) {
                        found++
                        target = target (found > 1 ? " and " : "") cand
                    }
                }
                if (found == 0) { fail(where ": no such header in the tree"); continue }
                if (found > 1) {
                    fail(where ": ambiguous, both " target " exist")
                    continue
                }
            }
            to = top(target)
            if (index(allow[from], " * ") || index(allow[from], " " to " ") ||
                index(allow[from], " " target " "))
                continue
            fail(where " (" target "): " from "/ may not include headers of " to "/; " \
                 from " may include:" substr(allow[from], 1, length(allow[from]) - 1))
        }
        if (rc < 0) fail(file ": cannot be read")
        close(src)
    }
    if (bad) {
        print "module map: " bad " violation" (bad == 1 ? "" : "s") " (allow-list: " table ")"
        exit 1
    }
    print "module map: ok (" n_inc " includes in " n_files " files)"
}'
