S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: LIST UID:2.eml
S: +OK 2 215
C: UIDL UID:3.eml
S: +OK 3 3.eml
C: uidl uid:1.eml
S: +OK 1 1.eml
C: LIST Uid:3.eml
S: +OK 3 71
C: TOP UID:3.eml 0
S: +OK top of message follows
S: From: carol@example.org
S: To: me@example.org
S: Subject: three
S:
S: .
C: RETR UID:3.eml
S: +OK 71 octets
S: From: carol@example.org
S: To: me@example.org
S: Subject: three
S:
S: Short.
S: .
C: LIST UID:2.EML
S: -ERR [UID/NOT-FOUND] no such message
C: LIST UID:
S: -ERR [UID/NOT-FOUND] no such message
C: RETR UID:../../etc/passwd
S: -ERR [UID/NOT-FOUND] no such message
C: RETR UID:/etc/passwd
S: -ERR [UID/NOT-FOUND] no such message
C: TOP UID:../me/1.eml 0
S: -ERR [UID/NOT-FOUND] no such message
C: RETR UID:4.eml
S: -ERR [UID/NOT-FOUND] no such message
C: RETR UID:\{u*71}
S: -ERR [UID/NOT-FOUND] no such message
C: DELE UID:2.eml x
S: -ERR [UID/NOT-FOUND] no such message
C: LIST 2
S: +OK 2 215
C: LIST UID2.eml
S: -ERR invalid message number
C: LIST UID
S: -ERR invalid message number
C: STAT
S: +OK 3 454
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/1.eml
    me/2.eml
    me/3.eml
