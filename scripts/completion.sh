#!/bin/sh
# completion.sh BINARY TEMPLATE -- print the bash completion script: TEMPLATE
# (completion/memc_load.in) with the options that BINARY's --list-options
# prints (src/options.c's table) in place of @VALUE_CASES@ and @OPTIONS@.
# The Makefile runs it to make build/completion/memc_load.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 BINARY TEMPLATE" >&2; exit 2; }
# Run first and alone: a binary that fails must fail the build, which the
# left side of a pipe would not.
list=$("$1" --list-options)
printf '%s\n' "$list" | awk -F '\t' -v template="$2" '
function fail(msg) {
	print "completion.sh: " msg > "/dev/stderr"
	failed = 1
	exit 1
}
NF != 5 || $1 !~ /^--[a-z][a-z-]*$/ || $2 !~ /^(-[a-zA-Z])?$/ {
	fail("not a --list-options line: " $0)
}
{
	names = $2 == "" ? $1 : $2 " | " $1
	options = options ($2 == "" ? "" : " " $2) " " $1
	if ($4 == "none")
		next
	if ($4 !~ /^(file|glob|number|servers|word)$/)
		fail("the template does not know values of kind " $4 " (" $1 ")")
	if ($5 ~ /[^A-Za-z0-9.:_ -]/)
		fail("a word the script would have to quote: " $5 " (" $1 ")")
	cases = cases sprintf("        %s) kind=%s values=\047%s\047 ;;\n", names, $4, $5)
}
# The option list as lines of up to 76 columns, the later ones indented.
function wrapped(words,    n, w, i, out, width) {
	n = split(words, w, " ")
	width = 48
	for (i = 1; i <= n; i++) {
		if (i > 1 && width + 1 + length(w[i]) > 76) {
			out = out "\n            "
			width = 12
		} else if (i > 1) {
			out = out " "
			width++
		}
		out = out w[i]
		width += length(w[i])
	}
	return out
}
END {
	if (failed)
		exit 1
	if (cases == "")
		fail("no option takes a value: is that --list-options?")
	while ((status = getline line < template) > 0) {
		if (line == "@VALUE_CASES@") {
			printf "%s", cases
			found_cases++
			continue
		}
		at = index(line, "@OPTIONS@")
		if (at) {
			line = substr(line, 1, at - 1) wrapped(options) substr(line, at + 9)
			found_options++
		}
		print line
	}
	if (status < 0)
		fail("cannot read " template)
	if (found_cases != 1 || found_options != 1)
		fail(template ": @VALUE_CASES@ and @OPTIONS@ must be there once each")
}
'
