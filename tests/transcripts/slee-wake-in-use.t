S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: SLEE
S: +OK sleeping, 0 messages deleted
during:
    # Another session takes the lock while the first sleeps (it must be
    # free: flock -n), and holds it for a while.
    flock -n me/.pop3d.lock sh -c ': > ../held; exec sleep 3' \
        </dev/null >/dev/null 2>&1 &
    i=0
    while [ ! -e ../held ]; do
    	i=$((i + 1))
    	[ "$i" -lt 250 ] || exit 1
    	sleep 0.02
    done
C: WAKE
S: -ERR [IN-USE] mailbox in use by another session
C: NOOP
S: +OK
C: QUIT
S: +OK bye
