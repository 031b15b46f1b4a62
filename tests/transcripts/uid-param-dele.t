S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: DELE UID:2.eml
S: +OK message deleted
C: DELE UID:2.eml
S: -ERR [UID/NOT-FOUND] message is deleted
C: RETR UID:2.eml
S: -ERR [UID/NOT-FOUND] message is deleted
C: UIDL UID:2.eml
S: -ERR [UID/NOT-FOUND] message is deleted
C: LIST 2
S: -ERR message is deleted
C: UIDL
S: +OK unique-id listing follows
S: 1 1.eml
S: 3 3.eml
S: .
C: RSET
S: +OK maildrop has 3 messages (454 octets)
C: DELE UID:1.eml
S: +OK message deleted
C: DELE uid:3.eml
S: +OK message deleted
C: QUIT
S: +OK bye, 2 messages deleted

after:
    me/
    me/2.eml
