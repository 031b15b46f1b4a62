S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: LIST
S: +OK 3 messages (454 octets)
S: 1 168
S: 2 215
S: 3 71
S: .
C: LIST 2
S: +OK 2 215
C: LIST 3
S: +OK 3 71
C: LIST 4
S: -ERR no such message
C: LIST 0
S: -ERR no such message
C: QUIT
S: +OK bye, 0 messages deleted
