args: --login-delay 3600
setup:
    printf 'pop3d login 1\n1000000000\n' > me/.pop3d.login

S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
during:
    # This login replaced the old record.
    head -n 1 me/.pop3d.login | grep -qx 'pop3d login 1'
    ! grep -qx 1000000000 me/.pop3d.login
C: STAT
S: +OK 3 454
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/.pop3d.login
    me/1.eml
    me/2.eml
    me/3.eml
