args: --login-delay 3600
setup:
    printf 'pop3d login 1\n99999999999999999999\n' > me/.pop3d.login

S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: QUIT
S: +OK bye, 0 messages deleted
