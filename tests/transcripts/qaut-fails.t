args: --qaut
rc: 1

S: +OK pop3d ready
C: USER me
S: +OK send PASS
C: PASS wrong1
S: -ERR [AUTH] authentication failed
C: USER me
S: +OK send PASS
C: PASS wrong2
S: -ERR [AUTH] authentication failed
@login me
S: +OK maildrop has 3 messages (454 octets)
C: QAUT
S: +OK 0 messages deleted, log in again
C: USER me
S: +OK send PASS
C: PASS wrong3
S: -ERR [AUTH] authentication failed
C: USER me
C: PASS passw0rd
