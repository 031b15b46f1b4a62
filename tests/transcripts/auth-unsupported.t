S: +OK pop3d ready
C: APOP me c4c9334bac560ecc979e58001b3e22fb
S: -ERR not supported
C: STLS
S: -ERR not supported
@login me
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
