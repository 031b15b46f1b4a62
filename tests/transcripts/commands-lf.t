S: +OK pop3d ready
C: USER me\n\
S: +OK send PASS
C: PASS passw0rd\n\
S: +OK maildrop has 3 messages (454 octets)
C: STAT\n\
S: +OK 3 454
C: LIST 1
S: +OK 1 168
C: QUIT\n\
S: +OK bye, 0 messages deleted
