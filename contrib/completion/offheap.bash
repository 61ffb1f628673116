# bash completion for offheap(1); installed as
# $PREFIX/share/bash-completion/completions/offheap.
#
# Nothing here lists a command or an option: the binary being completed says
# which it has (offheap --list-commands, offheap --list-options CMD, read from
# the getopt tables), and what an option's argument is comes from the
# placeholder after it in 'offheap CMD --help' (FILE, PID, DIR). What this file
# knows is what each command's operands are: PIDs (JVMs first for the JVM
# commands, from 'offheap ps --jvm'), recordings (*.db), other files.
# Plain bash (4.0 and later): it does not need the bash-completion package.

# _offheap_pids OFFHEAP [jvm]: PIDs matching $cur into COMPREPLY, largest RSS
# first; with "jvm", JVMs come before the other processes.
_offheap_pids() {
	local off=$1 line pid jvms=() rest=() seen=" "
	if [[ $2 == jvm ]]; then
		while read -r pid line; do
			[[ $pid =~ ^[0-9]+$ ]] || continue
			jvms+=("$pid")
			seen+="$pid "
		done < <("$off" ps --jvm 2>/dev/null)
	fi
	while read -r pid line; do
		[[ $pid =~ ^[0-9]+$ && $seen != *" $pid "* ]] || continue
		rest+=("$pid")
	done < <("$off" ps 2>/dev/null)
	compopt -o nosort 2>/dev/null
	COMPREPLY+=($(compgen -W "${jvms[*]} ${rest[*]}" -- "$cur"))
}

# _offheap_files [db]: files matching $cur into COMPREPLY; with "db" only
# recordings (*.db) and folders.
_offheap_files() {
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	if [[ $1 == db ]]; then
		COMPREPLY+=($(compgen -f -X '!*.db' -- "$cur") $(compgen -d -- "$cur"))
	else
		COMPREPLY+=($(compgen -f -- "$cur"))
	fi
}

# _offheap_metavar OFFHEAP CMD OPTION: the placeholder the help of CMD gives
# OPTION's argument ("-o, --output FILE" gives FILE).
_offheap_metavar() {
	local line re='^ +(-([a-zA-Z0-9]), )?--([a-z0-9-]+)[ =]([A-Z][A-Za-z.]*)'
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		if [[ $3 == "-${BASH_REMATCH[2]}" || $3 == "--${BASH_REMATCH[3]}" ]]; then
			echo "${BASH_REMATCH[4]}"
			return
		fi
	done < <("$1" "$2" --help 2>/dev/null)
}

_offheap() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev= off=${COMP_WORDS[0]} cmd= w i j
	local nargs=0 ddash=0 long short kind opts=() takes=" "
	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# "--output=x": bash splits the word at '=' (COMP_WORDBREAKS)
	if [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == = ]]; then
		cur=
	fi
	[[ $off == "~/"* ]] && off=$HOME/${off#"~/"}
	type -P -- "$off" >/dev/null 2>&1 || [[ -x $off ]] || off=offheap

	# the command: the first word that is not a global option
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--proc-root) ((i++)) ;;
		-*) ;;
		*) cmd=$w && break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		if [[ $prev == --proc-root ]]; then
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -d -- "$cur"))
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--proc-root --help --version --list-commands --list-options" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$("$off" --list-commands 2>/dev/null)" -- "$cur"))
		fi
		return 0
	fi
	[[ $prev == --list-options ]] && COMPREPLY=($(compgen -W "$("$off" --list-commands 2>/dev/null)" -- "$cur")) && return 0

	while IFS=$'\t' read -r long short kind; do
		[[ -n $long ]] && opts+=("$long")
		[[ $kind == arg ]] && takes+="$long $short "
	done < <("$off" --list-options "$cmd" 2>/dev/null)

	# the operands already given, and whether a "--" ended the options
	for ((j = i + 1; j < COMP_CWORD; j++)); do
		w=${COMP_WORDS[j]}
		if ((ddash)); then
			((nargs++))
			continue
		fi
		case $w in
		--) ddash=1 && nargs=0 ;;
		--*=* | =) ;;
		-*) [[ $takes == *" $w "* && ${COMP_WORDS[j + 1]} != = ]] && ((j++)) ;;
		*) [[ ${COMP_WORDS[j - 1]} == = ]] || ((nargs++)) ;;
		esac
	done
	# offheap record|trace -- COMMAND ARGS...
	if ((ddash)); then
		if ((nargs == 0)); then
			COMPREPLY=($(compgen -c -- "$cur"))
		else
			_offheap_files
		fi
		return 0
	fi

	if [[ $prev == -* && $takes == *" $prev "* ]]; then
		case $(_offheap_metavar "$off" "$cmd" "$prev") in
		PID) _offheap_pids "$off" ;;
		DIR) compopt -o filenames 2>/dev/null && COMPREPLY=($(compgen -d -- "$cur")) ;;
		FILE | OUT | REC | *.db) _offheap_files ;;
		esac
		return 0
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "${opts[*]}" -- "$cur"))
		return 0
	fi

	case $cmd:$nargs in
	jstat:0 | jcmd:0 | nmt:0 | jvm:0) _offheap_pids "$off" jvm ;;
	nmt:1) COMPREPLY=($(compgen -W "summary detail baseline diff" -- "$cur")) ;;
	maps:0 | snap:0 | watch:0 | trace:0 | dump:0) _offheap_pids "$off" ;;
	report:0 | diff:1) _offheap_files db ;;
	diff:0 | doctor:0)
		_offheap_files db
		_offheap_pids "$off"
		;;
	inspect:0)
		_offheap_files
		_offheap_pids "$off"
		;;
	esac
	return 0
}
complete -F _offheap offheap
