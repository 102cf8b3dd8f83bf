;;; lspmode_driver.el --- batch Emacs + lsp-mode through gdm's flow with editors/emacs/gdm-lsp-mode.el  -*- lexical-binding: t; -*-
;; A `gdm:' comment's code action, accept by clicking the code lens, M-x gdm-ask, reject by code
;; action; records the buffer, the mode-line segment, $/progress and the messages.

(load (expand-file-name "emacs_common.el" (file-name-directory load-file-name)))
(t/use-gdm)
(setq lsp-enabled-clients '(gdm)          ; no other Python server is installed here
      lsp-session-file (expand-file-name "lsp-session" (getenv "HOME"))
      lsp-headerline-breadcrumb-enable nil
      lsp-enable-file-watchers nil
      lsp-modeline-code-actions-enable nil
      lsp-modeline-diagnostics-enable nil
      lsp-diagnostics-provider :none)
(require 'gdm-lsp-mode)
(require 'lsp-lens)
(defvar t/progress nil)
(advice-add 'lsp--window-show-message :before
            (lambda (_ws params) (push (lsp-get params :message) t/shown)))
(setq lsp-progress-function
      (lambda (_ws params)
        (let ((value (lsp-get params :value)))
          (push (or (lsp-get value :message) (lsp-get value :title) (lsp-get value :kind)) t/progress))))

(when (getenv "EDITOR_TEST_DEBUG") (load (getenv "EDITOR_TEST_DEBUG")))

(defun t/done-count ()
  (cl-count "done" (hash-table-values gdm--tasks) :test #'equal))

(defun t/status (patch)
  (gdm--get (gethash (gdm--get patch :patchId) gdm--patches) :status))

(defun t/click-lens (wanted)
  "Run the action of the first code lens whose title contains WANTED, as mouse-1 on it does."
  (cl-loop for ov in lsp-lens--overlays
           thereis (cl-loop for title in (overlay-get ov 'lsp--metadata)
                            when (string-match-p (regexp-quote wanted) title)
                            return (progn (funcall (get-text-property 0 'action title)) t))))

(defun t/main ()
  (lsp-workspace-folders-add (getenv "GDM_TEST_WORKSPACE"))
  (find-file (expand-file-name "calc.py" (getenv "GDM_TEST_WORKSPACE")))
  (lsp)
  (t/wait "lsp-mode connected" (lambda () (and (lsp-workspaces)
                                              (eq (lsp--workspace-status (car (lsp-workspaces))) 'initialized))))
  (t/wait "session open (first gdm/costUpdate)" (lambda () gdm--cost))
  ;; Ask through the `gdm:' comment's code action.
  (t/goto "# gdm: EDTEST")
  (t/pick "gdm: EDTEST guard divide" (lambda () (call-interactively #'lsp-execute-code-action)))
  (t/wait "comment task done" (lambda () (= (t/done-count) 1)))
  (t/wait "patch of the comment" (lambda () (= (length (gdm-pending)) 1)))
  (let ((patch (car (gdm-pending))))
    ;; Accept by clicking the "Accept" code lens.
    (lsp-lens-mode 1)
    (t/wait "accept lens" (lambda () (lsp-lens-refresh t) (accept-process-output nil 0.2)
                            (cl-some (lambda (ov) (cl-some (lambda (title) (string-match-p "Accept" title))
                                                           (overlay-get ov 'lsp--metadata)))
                                     lsp-lens--overlays)))
    (t/click-lens "Accept")
    (t/wait "accepted" (lambda () (equal (t/status patch) "accepted"))))
  (t/put 'after_accept (t/text))
  ;; Ask with a prompt, reject by code action.
  (t/goto "Return a \\+ b")
  ;; "Ask gdm…" code action; its prompt typed in the minibuffer.
  (cl-letf (((symbol-function 'read-string)
             (lambda (prompt &rest _) (t/put 'input_prompt prompt) "EDTEST document add")))
    (t/pick "Ask gdm" (lambda () (call-interactively #'lsp-execute-code-action))))
  (t/wait "prompt task done" (lambda () (= (t/done-count) 2)))
  (t/wait "patch of the prompt" (lambda () (= (length (gdm-pending)) 1)))
  (let* ((patch (car (gdm-pending)))
         (hunk (aref (gdm--get patch :hunks) 0)))
    (t/goto-line (gdm--get (gdm--get (gdm--get hunk :range) :start) :line))
    (t/pick "gdm: Reject this change" (lambda () (call-interactively #'lsp-execute-code-action)))
    (t/wait "rejected" (lambda () (equal (t/status patch) "rejected"))))
  (t/put 'after_reject (t/text))
  ;; A shell command needs approval; lsp-mode 8 declares `window.showMessage' nil, so gdm does not
  ;; ask and denies (the safe default).
  (t/pick "Allow once" (lambda ()
                         (gdm-ask "EDTEST approve shell")
                         (t/wait "approved task over"
                                 (lambda () (= (cl-count-if (lambda (s) (member s '("done" "error")))
                                                            (hash-table-values gdm--tasks))
                                               3)))))
  (t/put 'task_statuses (hash-table-values gdm--tasks))
  (t/wait "task cost" (lambda () (> (or (gdm--get gdm--cost :taskUsd) 0) 0)))
  (t/put 'task_usd (gdm--get gdm--cost :taskUsd))
  (t/put 'progress t/progress)
  ;; format-mode-line is "" without a frame (batch): evaluate the installed segment itself.
  (let ((segment (car (member '(:eval (gdm-mode-line)) mode-line-misc-info))))
    (t/put 'mode_line (if segment (eval (cadr segment) t) "segment not in mode-line-misc-info"))))

(t/run #'t/main)
