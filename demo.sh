#!/bin/bash
# Builds pop3d and serves a demo mailbox on 127.0.0.1:1100 (PORT=... to
# change it) until Ctrl-C: user "me", password "passw0rd".  The demo/
# folder (users file and mail) is made anew on every run, so messages a
# client deleted come back.
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
port=${PORT:-1100}

scripts/install-deps

# Quiet unless something fails.
quietly() {
	local out
	if ! out=$("$@" 2>&1); then
		printf '%s\n' "$out" >&2
		echo "demo.sh: failed: $*" >&2
		exit 1
	fi
}
if [ ! -d build/meson-private ]; then
	quietly meson setup build
fi
quietly ninja -C build pop3d pop3d-passwd

rm -rf demo
# The failure-state file and the login slots in demo/ too, not in the
# system's /var/lib/pop3d and /run/pop3d, which a demo does not make.
mkdir -p demo/mail/me demo/state demo/run
chmod 700 demo
printf '%s\n' passw0rd |
    build/pop3d-passwd add --users demo/users me

cat >demo/mail/me/1.eml <<'MSG'
Subject: I'm a very simple EML file.
From: me@example.com
To: you@example.com

Hello from pop3d: this is the whole body.
MSG

cat >demo/mail/me/2.eml <<'MSG'
Return-Path: <alice@example.org>
Date: Mon, 03 Jun 2024 09:15:02 +0200
From: Alice Example <alice@example.org>
To: Me <me@example.com>
Subject: Lunch on Thursday?
Message-ID: <20240603091502.4711@mail.example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hi,

are you free for lunch on Thursday?  The café on the corner
has reopened.

.. and yes, this line starts with two dots; a POP3 client
must show it with exactly two.

Alice
-- 
Alice Example, example.org
MSG

cat >demo/mail/me/3.eml <<'MSG'
Date: Tue, 04 Jun 2024 17:42:10 +0000
From: =?UTF-8?Q?Jos=C3=A9_N=C3=BA=C3=B1ez?= <jose@example.net>
To: me@example.com
Subject: =?UTF-8?Q?Notes_from_the_meeting_=E2=80=94_attached?=
Message-ID: <b7c1e0f2-3a4d@example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=-=-=boundary=-=-="

--=-=-=boundary=-=-=
Content-Type: text/plain; charset=us-ascii

Here are the notes, as promised.

--=-=-=boundary=-=-=
Content-Type: text/plain; charset=us-ascii; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"
Content-Transfer-Encoding: base64

MS4gU2hpcCBwb3AzZC4KMi4gV3JpdGUgdGhlIHRlc3RzIGZpcnN0Lgo=

--=-=-=boundary=-=-=--
MSG

pop3d=$top/build/pop3d
users=$top/demo/users
root=$top/demo/mail
state=$top/demo/state
run=$top/demo/run
url="pop3://me:passw0rd@127.0.0.1:$port"
cat <<EOF_MSG

pop3d demo: user "me", password "passw0rd", 3 messages in demo/mail/me/
Serving POP3 on 127.0.0.1:$port (no TLS: loopback only).  Try, in another
terminal:

  curl $url/          # list messages
  curl $url/1         # fetch message 1
  python3 -c 'import poplib; c = poplib.POP3("127.0.0.1", $port); c.user("me"); c.pass_("passw0rd"); print(c.stat()); print(b"\n".join(c.retr(1)[1]).decode()); c.quit()'

or any mail client (POP3, port $port, no encryption).  Messages a client
deletes come back on the next run: demo/ is made anew each time.
pop3d's log lines appear below as they happen (and go to syslog, facility
mail, tag pop3d).  Ctrl-C stops the demo.

EOF_MSG

exec systemd-socket-activate -l "127.0.0.1:$port" --inetd -a \
    "$pop3d" --users "$users" --mail-root "$root" \
    --ban-file "$state/failures" --runtime-dir "$run"
