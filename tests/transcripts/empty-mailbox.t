S: +OK pop3d ready
@login nobox
S: +OK maildrop has 0 messages (0 octets)
C: STAT
S: +OK 0 0
C: LIST
S: +OK 0 messages (0 octets)
S: .
C: UIDL
S: +OK unique-id listing follows
S: .
C: LIST 1
S: -ERR no such message
C: RETR 1
S: -ERR no such message
C: RSET
S: +OK maildrop has 0 messages (0 octets)
C: QUIT
S: +OK bye, 0 messages deleted
