#!/bin/sh
# import.sh — import the manifest that Packer's `manifest` post-processor
# wrote into a lineagefs bucket, then point a channel of that bucket at the
# new iteration.  build.pkr.hcl runs it from a `shell-local`
# post-processor; it works as well by hand or from CI.
#
# usage: MNT=/srv/images BUCKET=web [CHANNEL=production] [BUILDS=N] \
#            import.sh [MANIFEST]
#
#   MNT       where the registry is mounted
#   BUCKET    the bucket to import into; it must exist (mkdir it once)
#   CHANNEL   a user channel of BUCKET to move to the new iteration (none
#             when unset); `latest` moves by itself
#   BUILDS    how many builds one Packer run makes.  Packer runs its
#             post-processors once per build, each time after appending
#             that build to the manifest; with BUILDS set, the script
#             imports only once the manifest's last run holds that many
#             builds, and only once per run, so every build of the run
#             lands in one iteration.  This counting reads the manifest
#             as Packer writes it (one "key": "value" a line).
#   MANIFEST  the manifest file (default packer-manifest.json)
#
# On success it prints the new iteration's path (buckets/B/iterations/FP)
# on stdout.  When the registry refuses the import or the channel move,
# the command that failed prints the system's own message (for example
# "cat: write error: File exists" when the fingerprint was imported
# before), the script adds the mount's reason from its `errors` file, and
# exits 1; a refused import creates nothing.  With BUILDS set, a run that
# is not complete yet or was imported already is not an error (exit 0,
# nothing printed on stdout).

prog=import.sh

die() {
	echo "$prog: $*" >&2
	exit 1
}

# The mount's own account of its most recent refusal.
why() {
	tail -n 1 "$MNT/errors" 2>/dev/null | sed 's/^/    /' >&2
}

# Names as lineagefs takes them; checked here so that a typo cannot turn
# into a path outside the bucket.
check_name() {
	case $2 in
	'' | *[!A-Za-z0-9-]*)
		die "$1 '$2' is not a bucket or channel name (letters, digits, -)"
		;;
	esac
}

manifest=${1:-packer-manifest.json}
[ $# -le 1 ] || die "usage: MNT=DIR BUCKET=B [CHANNEL=C] [BUILDS=N] $prog [MANIFEST]"
[ -n "${MNT:-}" ] || die "set MNT to the directory where the registry is mounted"
[ -n "${BUCKET:-}" ] || die "set BUCKET to the bucket to import into"
check_name BUCKET "$BUCKET"
[ -z "${CHANNEL:-}" ] || check_name CHANNEL "$CHANNEL"
case ${BUILDS:-} in
*[!0-9]*) die "BUILDS must be a number of builds, not '$BUILDS'" ;;
esac
[ -d "$MNT/buckets" ] || die "$MNT is not a lineagefs mount (it has no buckets/)"
[ -d "$MNT/buckets/$BUCKET" ] ||
    die "$MNT has no bucket $BUCKET (create it with: mkdir $MNT/buckets/$BUCKET)"
if [ ! -f "$manifest" ] || [ ! -r "$manifest" ]; then
	die "cannot read the manifest $manifest"
fi

bucket=$MNT/buckets/$BUCKET
run=$(sed -n 's/.*"last_run_uuid"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' \
    "$manifest" | tail -n 1)

if [ -n "${BUILDS:-}" ]; then
	[ -n "$run" ] || die "$manifest has no last_run_uuid, so BUILDS cannot count its builds"
	# One import at a time per manifest: two builds of a run may finish
	# together.  (Packer's own lock is $manifest.lock; this is another.)
	lock=$manifest.import-lock
	tries=0
	until mkdir "$lock" 2>/dev/null; do
		tries=$((tries + 1))
		[ "$tries" -lt 300 ] ||
		    die "$lock has been held for 300 s; remove it if no import is running"
		sleep 1
	done
	trap 'rmdir "$lock" 2>/dev/null' EXIT
	trap 'exit 1' HUP INT TERM
	done_file=$manifest.imported
	if [ -f "$done_file" ] && [ "$(sed -n 1p "$done_file")" = "$run" ]; then
		echo "$prog: run $run is imported already, as $(sed -n 2p "$done_file")" >&2
		exit 0
	fi
	have=$(grep -cF "\"packer_run_uuid\": \"$run\"" "$manifest")
	if [ "$have" -lt "$BUILDS" ]; then
		echo "$prog: $have of the $BUILDS builds of run $run are in $manifest;" \
		    "the import waits for the last one" >&2
		exit 0
	fi
fi

# The import event that follows this point is ours: remember where the
# log ends now.
before=$(tail -n 1 "$MNT/events" | sed -n 's/^[^ ]* seq=\([0-9][0-9]*\) .*/\1/p')
# A document that never becomes whole is refused once cat has gone (no
# close(2) reaches the mount), in its errors file only: count them now.
closes=$(grep -c " op=close path=buckets/$BUCKET/import " "$MNT/errors")

if ! cat "$manifest" >"$bucket/import"; then
	echo "$prog: $MNT refused to import $manifest into bucket $BUCKET:" >&2
	why
	exit 1
fi

# The new iteration, from its import event:
#   TIME seq=N action=import bucket=B iteration=FP version=vN ... run=UUID
# Only the first occurrence of each key counts, so a quoted reason in
# another event can never pass for one.
fp=$(awk -v after="${before:-0}" -v b="$BUCKET" -v run="$run" '
{
	seq = act = bk = it = rn = ""
	for (i = 2; i <= NF; i++) {
		if (seq == "" && $i ~ /^seq=/) seq = substr($i, 5)
		else if (act == "" && $i ~ /^action=/) act = substr($i, 8)
		else if (bk == "" && $i ~ /^bucket=/) bk = substr($i, 8)
		else if (it == "" && $i ~ /^iteration=/) it = substr($i, 11)
		else if (rn == "" && $i ~ /^run=/) rn = substr($i, 5)
	}
	if (act == "import" && bk == b && seq + 0 > after + 0 &&
	    (run == "" || rn == run))
		fp = it
}
END { if (fp != "") print fp }' "$MNT/events")

if [ -z "$fp" ]; then
	tries=0
	while [ "$tries" -lt 20 ]; do
		if [ "$(grep -c " op=close path=buckets/$BUCKET/import " \
		    "$MNT/errors")" -gt "$closes" ]; then
			echo "$prog: $MNT refused to import $manifest into bucket" \
			    "$BUCKET (it is not a whole JSON document):" >&2
			grep " op=close path=buckets/$BUCKET/import " "$MNT/errors" |
			    tail -n 1 | sed 's/^/    /' >&2
			exit 1
		fi
		tries=$((tries + 1))
		sleep 0.1
	done
	die "$MNT took the manifest, but its events show no import into $BUCKET"
fi
path=buckets/$BUCKET/iterations/$fp
status=$(cat "$MNT/$path/status") || die "cannot read the status of $path"
[ "$status" != running ] || die "$path was imported but is still running"
if [ -n "${done_file:-}" ]; then
	printf '%s\n%s\n' "$run" "$path" >"$done_file" ||
	    echo "$prog: warning: cannot write $done_file" >&2
fi
echo "$prog: imported $manifest as $path ($(cat "$MNT/$path/version"), $status)" >&2

if [ -n "${CHANNEL:-}" ]; then
	link=$bucket/channels/$CHANNEL
	if ! ln -sfn "../iterations/$fp" "$link"; then
		echo "$prog: imported $path, but $MNT refused to move channel" \
		    "$CHANNEL to it:" >&2
		why
		exit 1
	fi
	now=$(readlink "$link")
	[ "$now" = "../iterations/$fp" ] ||
	    die "channel $CHANNEL points at '$now' after the move, not at $fp"
	echo "$prog: buckets/$BUCKET/channels/$CHANNEL -> $path" >&2
fi

echo "$path"
