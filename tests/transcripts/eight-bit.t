S: +OK pop3d ready
@login odd
S: +OK maildrop has 7 messages (467 octets)
C: RETR 4
S: +OK 131 octets
S: Subject: =?UTF-8?Q?caf=C3=A9?=
S:
S: latin-1: caf\xe9
S: utf-8: caf\xc3\xa9 \xe2\x82\xac
S: bare CR inside:a\rb
S: NUL inside:a\x00b
S: high bytes: \x80\xff\xfe
S: tab:\there
S: .
C: TOP 4 2
S: +OK top of message follows
S: Subject: =?UTF-8?Q?caf=C3=A9?=
S:
S: latin-1: caf\xe9
S: utf-8: caf\xc3\xa9 \xe2\x82\xac
S: .
C: QUIT
S: +OK bye, 0 messages deleted
