args: --qaut --users etc/users
setup:
    # "far" has a mailbox outside the mail root, and the users file a
    # folder of its own: after QAUT from me, far's mailbox is out of reach.
    mkdir ../etc ../far
    cp me/1.eml ../far/1.eml
    grep '^me:\$' "$POP3D_USERS" > ../etc/users
    printf 'far:%s:%s\n' "$(grep '^me:\$' "$POP3D_USERS" | cut -d: -f2)" "$(cd ../far && pwd)" >> ../etc/users
    chmod 600 ../etc/users

S: +OK pop3d ready
@login far
S: +OK maildrop has 1 messages (168 octets)
C: RETR 1
S: +OK 168 octets
S: From: alice@example.org
S: To: me@example.org
S: Subject: one
S: Date: Mon, 01 Jan 2024 10:00:00 +0000
S:
S: Hello me,
S: this is message one, stored with LF line endings.
S: Bye.
S: .
C: QAUT
S: +OK 0 messages deleted, log in again
@login me
S: +OK maildrop has 3 messages (454 octets)
C: STAT
S: +OK 3 454
C: QUIT
S: +OK bye, 0 messages deleted
