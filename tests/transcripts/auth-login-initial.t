S: +OK pop3d ready
C: auth Login bydicmllbg==
S: + UGFzc3dvcmQ6
C: cGFzc3cwcmQ=
S: +OK maildrop has 1 messages (33 octets)
C: QUIT
S: +OK bye, 0 messages deleted
