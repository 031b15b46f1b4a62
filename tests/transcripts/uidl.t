S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: 2 2.eml
S: 3 3.eml
S: .
C: UIDL 2
S: +OK 2 2.eml
C: UIDL 4
S: -ERR no such message
C: UIDL 0
S: -ERR no such message
C: UIDL x
S: -ERR invalid message number
C: QUIT
S: +OK bye, 0 messages deleted
