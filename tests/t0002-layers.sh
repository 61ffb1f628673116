#!/bin/sh
# make layers (scripts/check-layers): the tree passes, and each kind of wrong-way include
# planted in a copy of it fails the check with a message naming the file.
. "$(dirname "$0")/test-lib.sh"

# copy_tree DIR: the files the check reads, copied to DIR.
copy_tree() {
	mkdir "$1" && cp -R "$ROOT/src" "$ROOT/preload" "$1/"
}

check() { "$ROOT/scripts/check-layers" "$@"; }

test_expect_success 'the tree as it is passes' '
	check "$ROOT" >out &&
	test ! -s out
'

test_expect_success 'a copy passes before anything is planted' '
	copy_tree clean &&
	check "$TRASH/clean" >out &&
	test ! -s out
'

test_expect_success 'a model file including a render header fails, naming the file' '
	copy_tree up &&
	grep -q "^#include \"trend.h\"$" up/src/model/trend.c &&
	sed -i "s/^#include \"trend.h\"$/&\n#include \"html.h\"/" up/src/model/trend.c &&
	test_exit_code 1 check "$TRASH/up" >out &&
	cat out &&
	grep -q "^layers: src/model/trend.c:[0-9]*: model includes render/html.h, a higher layer$" out &&
	test $(wc -l <out) -eq 1
'

test_expect_success 'a lib header including a source header fails' '
	copy_tree libup &&
	sed -i "s/^#define OFFHEAP_STRBUF_H$/&\n#include \"procfs.h\"/" libup/src/lib/strbuf.h &&
	test_exit_code 1 check "$TRASH/libup" >out &&
	grep -q "^layers: src/lib/strbuf.h:[0-9]*: lib includes source/procfs.h, a higher layer$" out
'

test_expect_success 'the tracker ABI header outside its one reader fails' '
	copy_tree abi &&
	sed -i "s|^#include \"procfs.h\"$|&\n#include \"../../preload/trackshm.h\"|" abi/src/source/procfs.c &&
	test_exit_code 1 check "$TRASH/abi" >out &&
	grep -q "^layers: src/source/procfs.c:[0-9]*: includes the tracker ABI header" out
'

test_expect_success 'preload/ including a header of src/ fails' '
	copy_tree pre &&
	echo "#include \"strbuf.h\"" >>pre/preload/hooks.c &&
	test_exit_code 1 check "$TRASH/pre" >out &&
	grep -q "^layers: preload/hooks.c:[0-9]*: preload/ includes \"strbuf.h\"" out
'

test_expect_success 'a path instead of a bare header name fails' '
	copy_tree path &&
	sed -i "s|^#include \"strbuf.h\"$|#include \"../lib/strbuf.h\"|" path/src/source/procfs.c &&
	test_exit_code 1 check "$TRASH/path" >out &&
	grep -q "^layers: src/source/procfs.c:[0-9]*: includes \"../lib/strbuf.h\": include project headers by bare name$" out
'

test_expect_success 'a file outside every layer fails' '
	copy_tree stray &&
	echo "int x;" >stray/src/stray.c &&
	test_exit_code 1 check "$TRASH/stray" >out &&
	grep -q "^layers: src/stray.c: a file in src/ outside every layer" out
'

test_done
