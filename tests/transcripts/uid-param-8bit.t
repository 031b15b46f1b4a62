S: +OK pop3d ready
@login names
S: +OK maildrop has 7 messages (164 octets)
C: LIST UID:caf\xc3\xa9.eml
S: -ERR [UID/NOT-FOUND] no such message
C: RETR UID:\xff\xfe
S: -ERR [UID/NOT-FOUND] no such message
C: LIST UID:caf\xe9.eml
S: -ERR [UID/NOT-FOUND] no such message
C: UIDL 3
S: +OK 3 =91a39282587dc89aa49d118bc78e08a9
C: LIST UID:=91a39282587dc89aa49d118bc78e08a9
S: +OK 3 26
C: QUIT
S: +OK bye, 0 messages deleted
