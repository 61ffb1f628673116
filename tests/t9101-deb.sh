#!/bin/sh
# The Debian package, built once by 'make deb' (dpkg-buildpackage on a copy of the tree
# without build folders): its dependencies come from the binaries, its files are in /usr,
# and, unpacked in a scratch root, its offheap records with its own tracker.
TEST_TIMEOUT=300
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

# The package is compiled from the sources by dpkg-buildpackage, whatever build folder the
# suite tests: the same work in both passes of CI, so it is done in the plain one only.
case "${OFFHEAP_BUILD:-build}" in
*asan*) skip_all "the package does not depend on the sanitized build: built in the 'make test' pass" ;;
esac

# no -dbgsym package: it is not what is tested and costs a third of the build
setup_or_fail "make deb builds the package" \
	env DEB_BUILD_OPTIONS="noddebs nocheck parallel=2" make -C "$ROOT" B="$TRASH/b" deb
deb=$(ls "$TRASH"/b/deb/offheap_*.deb)

test_expect_success 'one package, named by the version offheap says' '
	test "$(echo "$deb" | wc -w)" -eq 1 &&
	v=$(dpkg-deb -f "$deb" Version) &&
	offheap --version >have &&
	echo "offheap ${v%%-*}" >want &&
	diff -u want have
'

test_expect_success 'its dependencies are the libraries the binaries link or load' '
	dpkg-deb -f "$deb" Depends >deps &&
	# libmicrohttpd12: dlopened by serve alone, so named by hand in debian/control
	for lib in libc6 libsqlite3-0 libdw1 libunwind8 libprotobuf-c1 zlib1g libmicrohttpd12; do
		grep -E "(^|, )$lib( |,|$)" deps || { echo "no $lib in: $(cat deps)"; return 1; }
	done
'

test_expect_success 'it installs in /usr: binary, tracker, man pages, completions' '
	dpkg-deb -c "$deb" | awk "{ print \$6 }" >files &&
	grep -x ./usr/bin/offheap files &&
	grep -x ./usr/lib/offheap/liboffheap.so files &&
	grep -x ./usr/share/man/man1/offheap.1.gz files &&
	grep -x ./usr/share/man/man1/offheap-record.1.gz files &&
	grep -x ./usr/share/bash-completion/completions/offheap files &&
	grep -x ./usr/share/zsh/vendor-completions/_offheap files &&
	! grep -v -e "^./usr/" -e "^./$" files
'

test_expect_success 'unpacked, its offheap records with its own tracker and reports' '
	dpkg-deb -x "$deb" root &&
	root/usr/bin/offheap record --exact -o leak.db -- "$HELPERS/mallocleak" 0.3 &&
	root/usr/bin/offheap report leak.db >report &&
	grep leak_session_buffer report &&
	mv root/usr/lib/offheap/liboffheap.so lib.so &&
	test_must_fail root/usr/bin/offheap record -o none.db -- /bin/true 2>err &&
	grep -F "root/usr/bin/../lib/offheap" err
'

test_done
