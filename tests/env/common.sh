# Shared helpers of the local test environment scripts: free ports, background processes by pid, readiness waits.
# shellcheck shell=bash

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MAC_CLUSTER_DIR=${MAC_CLUSTER_DIR:-$repo_root/.local/cluster}
MAC_CLUSTER_ENV=${MAC_CLUSTER_ENV:-$repo_root/.local/cluster.env}

env_log() { echo "${0##*/}: $*" >&2; }

# free_port: prints a loopback TCP port nobody listens on and this run has not handed out yet.
# Ports come from 20000-32767, below the kernel's ephemeral range.
free_port() {
	local p tries=0
	while [ $tries -lt 200 ]; do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
		tries=$((tries + 1))
		case " ${MAC_USED_PORTS:-} " in *" $p "*) continue ;; esac
		if [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ]; then
			MAC_USED_PORTS="${MAC_USED_PORTS:-} $p"
			mkdir -p "$MAC_CLUSTER_DIR"
			echo "$p" >>"$MAC_CLUSTER_DIR/ports"
			echo "$p"
			return 0
		fi
	done
	env_log "no free port found"
	return 1
}

# proc_start PID: the start time of process PID (clock ticks since boot, /proc/PID/stat's 22nd field), which with
# the pid names one process even after the pid is used again; nothing when there is no such process.
proc_start() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) } # after the command name, which may hold spaces and parentheses
	awk '{ print $20 }' <<<"$stat"
}

# same_process PID START: true while PID is the process that had START (any process with PID when START is empty,
# as records without one were written).
same_process() {
	kill -0 "$1" 2>/dev/null || return 1
	[ -z "$2" ] || [ "$(proc_start "$1")" = "$2" ]
}

# start_bg NAME DIR COMMAND...: starts COMMAND in its own process group, output to DIR/logs/NAME.log, pid in
# DIR/pids/NAME.pid and its start time in DIR/pids/NAME.start; DIR/all-pids gets "PID START".
start_bg() {
	local name=$1 dir=$2 pid start
	shift 2
	mkdir -p "$dir/logs" "$dir/pids" "$dir/cmds"
	printf '%q ' "$@" >"$dir/cmds/$name"
	setsid "$@" >>"$dir/logs/$name.log" 2>&1 </dev/null &
	pid=$!
	start=$(proc_start "$pid")
	echo "$pid" >"$dir/pids/$name.pid"
	echo "$start" >"$dir/pids/$name.start"
	echo "$pid $start" >>"$dir/all-pids"
}

# leftovers DIR: prints every process and listening port this environment ever started that is still there, and
# what of its real node (mounts, interfaces, iptables rules, cgroups, sysctls) is.
leftovers() {
	local dir=$1 pid start port
	[ -f "$dir/node.sysctl.before" ] && MAC_CLUSTER_DIR=$dir "$(dirname "${BASH_SOURCE[0]}")/real-node.sh" leftovers
	# a pid the kernel has given to another process since (pids wrap at pid_max) is not ours
	while read -r pid start; do
		same_process "$pid" "$start" && echo "process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80))"
	done < <(cat "$dir/all-pids" 2>/dev/null)
	for port in $(cat "$dir/ports" 2>/dev/null); do
		[ -z "$(ss -Htln "sport = :$port" 2>/dev/null)" ] || echo "port $port"
	done
}

# alive DIR NAME: true when the process recorded for NAME runs.
alive() {
	local pid
	pid=$(cat "$1/pids/$2.pid" 2>/dev/null) || return 1
	same_process "$pid" "$(cat "$1/pids/$2.start" 2>/dev/null)"
}

# stop_pid DIR NAME: TERM, then KILL after 10 s, the process group recorded for NAME; removes its pid file.
stop_pid() {
	local dir=$1 name=$2 pid start
	pid=$(cat "$dir/pids/$name.pid" 2>/dev/null) || return 0
	start=$(cat "$dir/pids/$name.start" 2>/dev/null)
	# never a signal to the group of a process that merely has the pid now
	if same_process "$pid" "$start"; then
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/pids/$name.pid" "$dir/pids/$name.start"
}

# wait_until SECONDS WHAT COMMAND...: polls COMMAND until it succeeds; on timeout names WHAT and fails.
wait_until() {
	local limit=$1 what=$2 deadline
	shift 2
	deadline=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			env_log "timed out after ${limit}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}
