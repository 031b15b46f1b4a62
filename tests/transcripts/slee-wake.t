S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: DELE 1
S: +OK message deleted
C: SLEE
S: +OK sleeping, 1 messages deleted
during:
    # Asleep: 1.eml is gone, and the mailbox lock is free for others.
    test ! -e me/1.eml
    flock -n me/.pop3d.lock true
C: STAT
S: -ERR command not valid in this state
C: CAPA
S: -ERR command not valid in this state
C: SLEE
S: -ERR command not valid in this state
C: NOOP
S: +OK
C: WAKE x
S: -ERR no argument expected
C: WAKE
S: +OK [ACTIVITY/NONE] maildrop has 2 messages (286 octets)
C: LIST
S: +OK 2 messages (286 octets)
S: 1 215
S: 2 71
S: .
C: UIDL
S: +OK unique-id listing follows
S: 1 2.eml
S: 2 3.eml
S: .
C: WAKE
S: -ERR command not valid in this state
C: SLEE
S: +OK sleeping, 0 messages deleted
C: QUIT
S: +OK bye

after:
    me/
    me/2.eml
    me/3.eml
