#!/bin/sh
# child-from-channel.sh — record an application image built from whatever a
# base bucket's channel hands out, with nothing but the shell: mkdir the
# iteration, write the base channel to its `parent`, add a build and its
# artifacts, complete it, and move the application's own channel to it.
# This is what a build pipeline that does not use Packer would run after
# baking its image.
#
# usage: MNT=/srv/images BUCKET=web FINGERPRINT=9e27c4a \
#            [BASE=base] [BASE_CHANNEL=production] [CHANNEL=production] \
#            [BUILD=amazon-ebs.web] [PLATFORM=aws] \
#            child-from-channel.sh REGION=EXTERNAL-ID...
#
#   e.g. ... child-from-channel.sh us-east-1=ami-0f... eu-west-1=ami-07...
#
# The parent is written as the channel (buckets/BASE/channels/BASE_CHANNEL),
# so lineagefs remembers which channel it came through and can tell later
# whether the image is out of date.  The build's `source` is set to the
# base's artifact in the first region given, read from the very iteration
# the parent link recorded.  CHANNEL may be empty to move no channel.
#
# On success it prints the new iteration's path on stdout.  Any refusal
# fails the script with the system's own message, the mount's reason from
# `errors`, and exit status 1; an iteration left incomplete by a failure is
# removed again.

prog=child-from-channel.sh

BASE=${BASE:-base}
BASE_CHANNEL=${BASE_CHANNEL:-production}
CHANNEL=${CHANNEL-production}
PLATFORM=${PLATFORM:-aws}

die() {
	echo "$prog: $*" >&2
	exit 1
}

# A refusal: the command already printed the system's message; add the
# mount's reason.
refused() {
	echo "$prog: $*; the mount says:" >&2
	tail -n 1 "$MNT/errors" 2>/dev/null | sed 's/^/    /' >&2
	exit 1
}

# One value in one write(2), as lineagefs wants it.  The printf program
# rather than sh's builtin: dash's builtins say only "I/O error" when a
# write fails, the program names the errno ("File too large").
put() {
	env printf '%s\n' "$2" >"$1"
}

check_name() {
	case $2 in
	'' | *[!A-Za-z0-9-]*) die "$1 '$2' is not a bucket or channel name" ;;
	esac
}

[ -n "${MNT:-}" ] || die "set MNT to the directory where the registry is mounted"
[ -n "${BUCKET:-}" ] || die "set BUCKET to the application's bucket"
[ -n "${FINGERPRINT:-}" ] || die "set FINGERPRINT to the new iteration's fingerprint"
BUILD=${BUILD:-amazon-ebs.$BUCKET}
check_name BUCKET "$BUCKET"
check_name BASE "$BASE"
check_name BASE_CHANNEL "$BASE_CHANNEL"
[ -z "$CHANNEL" ] || check_name CHANNEL "$CHANNEL"
case $FINGERPRINT$BUILD in
*/*) die "FINGERPRINT and BUILD cannot contain /" ;;
esac
[ $# -gt 0 ] || die "name at least one artifact as REGION=EXTERNAL-ID"
for a in "$@"; do
	case $a in
	?*=?*) ;;
	*) die "'$a' is not REGION=EXTERNAL-ID" ;;
	esac
	case ${a%%=*} in
	*/* | .*) die "'${a%%=*}' is not a region name" ;;
	esac
done
[ -d "$MNT/buckets/$BUCKET" ] || die "$MNT has no bucket $BUCKET"
base_link=buckets/$BASE/channels/$BASE_CHANNEL
[ -L "$MNT/$base_link" ] || die "$MNT has no channel $base_link"

path=buckets/$BUCKET/iterations/$FINGERPRINT
it=$MNT/$path

# From here on, a failure removes the iteration while it is incomplete.
made=
cleanup() {
	if [ -n "$made" ] && [ "$(cat "$it/status" 2>/dev/null)" = running ]; then
		rmdir "$it" && echo "$prog: removed the unfinished $path" >&2
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

mkdir "$it" || refused "cannot create $path"
made=1

# The parent, through the channel; then the iteration it resolved to.
put "$it/parent" "$base_link" || refused "cannot record $base_link as the parent"
parent=$(sed -n '1s/ .*//p' "$it/parent")
[ -n "$parent" ] || die "$path/parent is empty after writing $base_link to it"
echo "$prog: $path is built from $parent (through $base_link)" >&2

b=$it/builds/$BUILD
mkdir "$b" || refused "cannot create the build $BUILD"
put "$b/platform" "$PLATFORM" || refused "cannot set the platform of $BUILD"
for a in "$@"; do
	put "$b/artifacts/${a%%=*}" "${a#*=}" ||
	    refused "cannot set the artifact ${a%%=*} of $BUILD"
done

# The build's source: the base's artifact, of a build on the same
# platform, in the first region named above (if the base has one there).
region=${1%%=*}
source=
for pb in "$MNT/$parent"/builds/*; do
	[ "$(cat "$pb/platform" 2>/dev/null)" = "$PLATFORM" ] || continue
	if [ -f "$pb/artifacts/$region" ]; then
		source=$(cat "$pb/artifacts/$region")
		break
	fi
done
if [ -n "$source" ]; then
	put "$b/source" "$source" || refused "cannot set the source of $BUILD"
fi

put "$it/complete" 1 || refused "cannot complete $path"
echo "$prog: completed $path as $(cat "$it/version")" >&2

if [ -n "$CHANNEL" ]; then
	ln -sfn "../iterations/$FINGERPRINT" "$MNT/buckets/$BUCKET/channels/$CHANNEL" ||
	    refused "$path is complete, but channel $CHANNEL did not move to it"
	echo "$prog: buckets/$BUCKET/channels/$CHANNEL -> $path" >&2
fi

echo "$path"
