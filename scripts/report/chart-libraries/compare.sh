#!/usr/bin/env bash
# Why `attune report` draws with JFreeChart: the jars each candidate brings, and the same chart drawn by both
# (PNG to look at, SVG sizes). Writes the pictures to OUT (default: a temporary directory). Results: results.txt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
mvn -B -q -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$out/classpath.txt" >/dev/null
cp=$(cat "$out/classpath.txt")
echo "jars on the classpath (bytes):"
tr ':' '\n' <<<"$cp" | while read -r jar; do printf '%10d  %s\n' "$(stat -c %s "$jar")" "$(basename "$jar")"; done
javac -d "$out" -cp "$cp" "$here/CompareChartLibraries.java"
java -Djava.awt.headless=true -cp "$cp:$out" CompareChartLibraries "$out"
echo "pictures in $out"
