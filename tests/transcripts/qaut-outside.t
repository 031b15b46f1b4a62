args: --qaut --users etc/users
confined: pop3d must be confined by Landlock for far's mailbox to be out of reach
setup:
    # "far" has a mailbox outside the mail root, and the users file a
    # folder of its own: after QAUT from me, far's mailbox is out of reach.
    mkdir ../etc ../far
    cp me/1.eml ../far/1.eml
    grep '^me:\$' "$POP3D_USERS" > ../etc/users
    printf 'far:%s:%s\n' "$(grep '^me:\$' "$POP3D_USERS" | cut -d: -f2)" "$(cd ../far && pwd)" >> ../etc/users
    chmod 600 ../etc/users

S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: QAUT
S: +OK 0 messages deleted, log in again
@login far
S: -ERR [SYS/TEMP] mailbox out of this connection's reach, connect again
@login me
S: +OK maildrop has 3 messages (454 octets)
C: STAT
S: +OK 3 454
C: QUIT
S: +OK bye, 0 messages deleted
