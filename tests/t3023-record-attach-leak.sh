#!/bin/sh
# offheap record -p with the real tracker: a C program that is already running starts
# leaking through a function of its own once liboffheap.so is in its map; the report
# of the attached recording ranks that function first, and after the detach the
# program goes on and ends with the right answer.
#
# This needs liboffheap.so's attach interface (offheap_attach/offheap_detach, the
# attlib branch of issue 15); before that branch is merged the first test fails
# with "'...liboffheap.so' has no function 'offheap_attach'".
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

start_bg "$HELPERS/attachee" --ready ready --until until --lifetime 100 \
	--wait-lib liboffheap.so --attached attached --leak-size 65536 --leak-max 300
PID=$BG_PID

test_expect_success 'the target runs' '
	wait_ready ready
'

test_expect_success 'attached while running (needs the attachable liboffheap.so): the leak is ranked first' '
	"$OFFHEAP" record -p $PID -d 3s -i 200ms --exact -o leak.db 2>err;
	rc=$?;
	cat err;
	test $rc = 0 &&
	test -s attached &&
	grep -q "^offheap record: detached from process $PID; " err &&
	"$OFFHEAP" report leak.db --top 1 >out &&
	cat out &&
	sed -n "/^#1/,/^\$/p" out >top &&
	grep -q attachee_leak_after_attach top
'

test_expect_success 'after the detach the target goes on and computes right' '
	touch until &&
	test_exit_code 0 wait $PID
'

test_done
