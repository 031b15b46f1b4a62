S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: DELE 1
S: +OK message deleted
C: DELI 2
S: +OK message deleted
during:
    # DELI answered: its file is gone, DELE's is not, no journal is left.
    test ! -e me/2.eml
    test -e me/1.eml
    test ! -e me/.pop3d.journal
C: STAT
S: +OK 1 71
C: LIST
S: +OK 1 messages (71 octets)
S: 3 71
S: .
C: DELI 2
S: -ERR message is deleted
C: DELE 2
S: -ERR message is deleted
C: RETR 2
S: -ERR message is deleted
C: RSET
S: +OK maildrop has 2 messages (239 octets)
C: LIST
S: +OK 2 messages (239 octets)
S: 1 168
S: 3 71
S: .
C: DELI
S: -ERR DELI needs a message number
C: DELI 4
S: -ERR no such message
C: DELI x
S: -ERR invalid message number
C: DELI UID:nope
S: -ERR [UID/NOT-FOUND] no such message
C: DELI UID:3.eml
S: +OK message deleted
C: LIST
S: +OK 1 messages (168 octets)
S: 1 168
S: .
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/1.eml
