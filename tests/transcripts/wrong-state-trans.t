S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: USER me
S: -ERR command not valid in this state
C: PASS passw0rd
S: -ERR command not valid in this state
C: APOP me c4c9334bac560ecc979e58001b3e22fb
S: -ERR command not valid in this state
C: STLS
S: -ERR command not valid in this state
C: NOOP
S: +OK
C: QUIT
S: +OK bye, 0 messages deleted
